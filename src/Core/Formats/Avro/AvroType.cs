namespace MskClickHouse.Core.Formats.Avro;

/// <summary>The Avro types, with the logical types the transcoder writes differently folded in.</summary>
public enum AvroKind : byte
{
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Record,
    Enum,
    Array,
    Map,
    Union,
    Fixed,

    /// <summary>int: days since 1970-01-01 → "yyyy-MM-dd".</summary>
    Date,

    /// <summary>int: milliseconds after midnight → "HH:mm:ss.fff".</summary>
    TimeMillis,

    /// <summary>long: microseconds after midnight → "HH:mm:ss.ffffff".</summary>
    TimeMicros,

    /// <summary>long: epoch milliseconds → "yyyy-MM-ddTHH:mm:ss.fffZ" (local-timestamp-*: without the Z).</summary>
    TimestampMillis,

    /// <summary>long: epoch microseconds → 6 fraction digits.</summary>
    TimestampMicros,

    /// <summary>long: epoch nanoseconds → 9 fraction digits.</summary>
    TimestampNanos,

    /// <summary>bytes or fixed: two's-complement big-endian unscaled value → exact decimal text.</summary>
    Decimal,

    /// <summary>fixed(16) uuid → canonical text (a string uuid is written as the string it is).</summary>
    FixedUuid,
}

/// <summary>
/// One node of a parsed, compiled Avro schema. Named types are one shared instance, so a recursive schema is a
/// cyclic graph. Everything the transcoder writes that does not depend on the data (field names, enum symbols) is
/// encoded to JSON bytes once here, so transcoding a record allocates nothing.
/// </summary>
public sealed class AvroType
{
    public AvroType(AvroKind kind) => Kind = kind;

    public AvroKind Kind { get; set; }

    /// <summary>Full name of a record, enum or fixed (null for other types).</summary>
    public string? FullName { get; init; }

    /// <summary>Record fields, in writer order.</summary>
    public AvroField[] Fields { get; set; } = [];

    /// <summary>Enum symbols as JSON strings with their quotes (<c>"RED"</c>), by index.</summary>
    public byte[][] Symbols { get; set; } = [];

    /// <summary>Array items, map values.</summary>
    public AvroType? Items { get; set; }

    /// <summary>Union branches.</summary>
    public AvroType[] Branches { get; set; } = [];

    /// <summary>Fixed size in bytes (also for a fixed-backed decimal or uuid).</summary>
    public int Size { get; set; }

    /// <summary>Decimal scale.</summary>
    public int Scale { get; set; }

    /// <summary>Decimal read from fixed (Size bytes) rather than from bytes (length-prefixed).</summary>
    public bool FixedBacked { get; set; }

    /// <summary>local-timestamp-*: written without the UTC 'Z'.</summary>
    public bool Local { get; set; }

    public override string ToString() => FullName ?? Kind.ToString();
}

/// <summary>A record field: its pre-encoded <c>,"name":</c> and its type.</summary>
public sealed class AvroField(string name, byte[] jsonNameWithComma, AvroType type)
{
    public string Name { get; } = name;

    /// <summary><c>,"name":</c>; the first field of a record writes it from index 1 (no comma).</summary>
    public byte[] JsonNameWithComma { get; } = jsonNameWithComma;

    public AvroType Type { get; set; } = type;
}
