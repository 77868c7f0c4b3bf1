namespace MskClickHouse.Core.Formats.Avro;

/// <summary>Avro binary that does not match its writer schema (truncated, a bad union index, a negative length...).</summary>
public sealed class AvroDataException(string message) : Exception(message);
