namespace MskClickHouse.Core.Formats.Protobuf;

/// <summary>A .proto text the decoder cannot use: a syntax error, an unknown type, an unsupported construct (groups).</summary>
public sealed class ProtoSchemaException(string message) : Exception(message);

/// <summary>Protobuf wire bytes that do not fit the message (truncated, a wire type the field cannot have).</summary>
public sealed class ProtoDataException(string message) : Exception(message);
