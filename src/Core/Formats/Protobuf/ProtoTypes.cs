namespace MskClickHouse.Core.Formats.Protobuf;

/// <summary>The scalar types of a .proto field, plus enum, message and the well-known Timestamp.</summary>
public enum ProtoKind : byte
{
    Double,
    Float,
    Int64,
    UInt64,
    Int32,
    Fixed64,
    Fixed32,
    Bool,
    String,
    Bytes,
    UInt32,
    SFixed32,
    SFixed64,
    SInt32,
    SInt64,
    Enum,
    Message,

    /// <summary>google.protobuf.Timestamp: written as an ISO 8601 UTC string with 9 fraction digits (DateTime64).</summary>
    Timestamp,
}

/// <summary>A message type: its fields in declaration order (the JSON order) and its nested messages in order.</summary>
public sealed class ProtoMessage(string fullName)
{
    public string FullName { get; } = fullName;

    public List<ProtoField> Fields { get; } = [];

    /// <summary>Nested message types in declaration order (the Confluent message-index path walks them).</summary>
    public List<ProtoMessage> Nested { get; } = [];

    /// <summary>A synthetic map-entry message (key = 1, value = 2).</summary>
    public bool IsMapEntry { get; init; }

    /// <summary>Field index by field number for numbers below 256 (-1 when none), else <see cref="FieldsByNumber"/>.</summary>
    public short[] SmallNumbers { get; set; } = [];

    public Dictionary<int, int> FieldsByNumber { get; } = [];

    public int IndexOf(int number)
    {
        if ((uint)number < (uint)SmallNumbers.Length)
        {
            return SmallNumbers[number];
        }

        return FieldsByNumber.TryGetValue(number, out var i) ? i : -1;
    }

    public override string ToString() => FullName;
}

/// <summary>An enum type: symbol JSON strings by number.</summary>
public sealed class ProtoEnum(string fullName)
{
    public string FullName { get; } = fullName;

    public Dictionary<int, byte[]> Symbols { get; } = [];

    /// <summary>The first declared value (proto3's default).</summary>
    public byte[] Default { get; set; } = "0"u8.ToArray();
}

/// <summary>A field: number, name (pre-encoded as <c>,"name":</c>), kind, label, and for enum/message its resolved type.</summary>
public sealed class ProtoField
{
    public required string Name { get; init; }

    public required int Number { get; init; }

    public required byte[] JsonNameWithComma { get; init; }

    public ProtoKind Kind { get; set; }

    /// <summary>The type name as written, resolved after the whole file is parsed.</summary>
    public string? TypeName { get; init; }

    public string Scope { get; init; } = string.Empty;

    public bool Repeated { get; init; }

    public bool IsMap { get; init; }

    /// <summary>Explicit presence (proto2 optional, proto3 'optional', oneof members): absent is null, not the default.</summary>
    public bool HasPresence { get; init; }

    public ProtoMessage? Message { get; set; }

    public ProtoEnum? Enum { get; set; }
}
