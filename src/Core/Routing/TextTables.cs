using MskClickHouse.Core.Json;

namespace MskClickHouse.Core.Routing;

/// <summary>
/// The tables (indexes into <see cref="TopicRoutes.Tables"/>) each compared text sends a record to: one hash lookup of a
/// header's, key's or field's text instead of one comparison per rule.
/// </summary>
internal sealed class TextTables
{
    private readonly Dictionary<byte[], int[]> byText = new(Utf8TextComparer.Instance);
    private readonly Dictionary<byte[], int[]>.AlternateLookup<ReadOnlySpan<byte>> lookup;

    /// <summary>The texts when all are short (<see cref="ShortTexts"/>): a lookup without hashing the text or probing; null otherwise.</summary>
    private ShortTexts? shortTexts;

    /// <summary>Some text holds a backslash: a raw JSON string equal to it byte for byte may be an escape, not that text.</summary>
    private bool backslashes;

    public TextTables() => lookup = byText.GetAlternateLookup<ReadOnlySpan<byte>>();

    /// <summary>The compared texts and their tables.</summary>
    public IReadOnlyDictionary<byte[], int[]> Entries => byText;

    /// <summary>Adds <paramref name="table"/> to the tables of <paramref name="text"/> (once).</summary>
    public void Add(byte[] text, int table)
    {
        var tables = byText.GetValueOrDefault(text, []);
        if (!tables.Contains(table))
        {
            byText[text] = [.. tables, table];
            backslashes |= text.AsSpan().Contains((byte)'\\');
            shortTexts = ShortTexts.Create(byText);
        }
    }

    /// <summary>Adds <paramref name="tables"/> to every text's tables (the tables that take every record).</summary>
    public void AddToAll(IReadOnlyList<int> tables)
    {
        foreach (var text in byText.Keys.ToList())
        {
            foreach (var t in tables)
            {
                Add(text, t);
            }
        }
    }

    /// <summary>The tables of <paramref name="text"/> (unescaped UTF-8); empty when none.</summary>
    public ReadOnlySpan<int> Of(ReadOnlySpan<byte> text) => Of(text, 0, text.Length);

    /// <summary>The tables of the text at <paramref name="start"/> of <paramref name="buffer"/> (which may be read past it).</summary>
    private ReadOnlySpan<int> Of(ReadOnlySpan<byte> buffer, int start, int length) =>
        shortTexts is { } texts ? texts.Of(buffer, start, length) : lookup.TryGetValue(buffer.Slice(start, length), out var found) ? found : [];

    /// <summary>
    /// The tables of a raw JSON value found by <see cref="TopLevelField.Find"/>, compared as text: a string by its
    /// unescaped content, a number or boolean by its JSON text; <c>null</c> has none. An escaped string (rare) is compared
    /// with each text as <see cref="TopLevelField.ValueEquals"/> does.
    /// </summary>
    /// <param name="json">The JSON the value lies in, at <paramref name="start"/> for <paramref name="length"/> bytes.</param>
    public ReadOnlySpan<int> OfJson(ReadOnlySpan<byte> json, int start, int length, bool isString)
    {
        var raw = json.Slice(start, length);
        if (!isString)
        {
            return raw.SequenceEqual("null"u8) ? [] : Of(json, start, length);
        }

        if (!backslashes)
        {
            // Equal byte for byte to a text without backslash: the raw string holds no escape.
            var hit = Of(json, start, length);
            if (!hit.IsEmpty || raw.IndexOf((byte)'\\') < 0)
            {
                return hit;
            }
        }
        else if (raw.IndexOf((byte)'\\') < 0)
        {
            return Of(json, start, length);
        }

        foreach (var (text, tables) in byText)
        {
            if (TopLevelMembers.TextEquals(raw, text))
            {
                return tables;
            }
        }

        return [];
    }
}
