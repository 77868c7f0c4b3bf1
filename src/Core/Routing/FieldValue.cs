namespace MskClickHouse.Core.Routing;

/// <summary>Where the raw value of one field the routes read lies in a record's JSON (<see cref="TopLevelField.Find"/>).</summary>
internal readonly record struct FieldValue(bool Found, int Start, int Length, bool IsString);
