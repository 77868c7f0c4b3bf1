using System.Text;

namespace MskClickHouse.Core.Configuration;

/// <summary>
/// The <c>where</c> of a ROUTES rule. Every comparison is of UTF-8 text, byte for byte: the value to compare with is
/// held as UTF-8 once, at start-up.
/// </summary>
public abstract record RouteCondition
{
    private protected RouteCondition(string value)
    {
        Value = value;
        ValueUtf8 = Encoding.UTF8.GetBytes(value);
    }

    /// <summary>The text a record's header, key or field is compared with.</summary>
    public string Value { get; }

    /// <summary><see cref="Value"/> as UTF-8.</summary>
    public byte[] ValueUtf8 { get; }
}

/// <summary><c>{"header": NAME, "equals": VALUE}</c>: a header named NAME whose value, as UTF-8 text, is VALUE.</summary>
public sealed record HeaderEquals : RouteCondition
{
    public HeaderEquals(string name, string value)
        : base(value)
    {
        Name = name;
        NameUtf8 = Encoding.UTF8.GetBytes(name);
    }

    public string Name { get; }

    public byte[] NameUtf8 { get; }

    public override string ToString() => $"header '{Name}' = '{Value}'";
}

/// <summary><c>{"key": "equals"|"prefix", "value": V}</c>: the record key, as UTF-8 text, is V or starts with V.</summary>
public sealed record KeyMatches : RouteCondition
{
    public KeyMatches(bool prefix, string value)
        : base(value)
    {
        Prefix = prefix;
    }

    /// <summary>True for <c>prefix</c>, false for <c>equals</c>.</summary>
    public bool Prefix { get; }

    public override string ToString() => Prefix ? $"key starts with '{Value}'" : $"key = '{Value}'";
}

/// <summary>
/// <c>{"field": NAME, "equals": VALUE}</c>: the value's top-level field NAME (of the JSON value, or of the decoded
/// Avro/Protobuf record) compared as text: a string field by its unescaped content, a number or boolean by its JSON
/// text, so <c>"click"</c> equals <c>click</c> and <c>5</c> equals <c>"5"</c>. A null, object or array field never equals.
/// </summary>
public sealed record FieldEquals : RouteCondition
{
    public FieldEquals(string name, string value)
        : base(value)
    {
        Name = name;
        NameUtf8 = Encoding.UTF8.GetBytes(name);
    }

    public string Name { get; }

    public byte[] NameUtf8 { get; }

    public override string ToString() => $"field '{Name}' = '{Value}'";
}
