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

    /// <summary>
    /// Up to <see cref="FewTexts"/> texts in <see cref="Slots"/> slots placed by <see cref="SlotOf"/> (length, first and
    /// last byte; the next free slot on a clash): a record's text is compared with the one or two texts of its slot,
    /// cheaper than hashing it or comparing it with every text. Null when there are more texts.
    /// </summary>
    private (byte[]? Text, int[] Tables)[]? few = new (byte[]?, int[])[Slots];

    private const int FewTexts = 8;

    /// <summary>A power of two, twice <see cref="FewTexts"/>: a free slot always ends a probe.</summary>
    private const int Slots = 16;

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
            few = byText.Count <= FewTexts ? Place(byText) : null;
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
    public ReadOnlySpan<int> Of(ReadOnlySpan<byte> text)
    {
        if (few is { } texts)
        {
            for (var slot = SlotOf(text); ; slot = (slot + 1) & (Slots - 1))
            {
                var (candidate, tables) = texts[slot];
                if (candidate is null)
                {
                    return [];
                }

                if (candidate.Length == text.Length && text.SequenceEqual(candidate))
                {
                    return tables;
                }
            }
        }

        return lookup.TryGetValue(text, out var found) ? found : [];
    }

    /// <summary>
    /// The tables of a raw JSON value found by <see cref="TopLevelField.Find"/>, compared as text: a string by its
    /// unescaped content, a number or boolean by its JSON text; <c>null</c> has none. An escaped string (rare) is compared
    /// with each text as <see cref="TopLevelField.ValueEquals"/> does.
    /// </summary>
    public ReadOnlySpan<int> OfJson(ReadOnlySpan<byte> raw, bool isString)
    {
        if (!isString)
        {
            return raw.SequenceEqual("null"u8) ? [] : Of(raw);
        }

        if (!backslashes)
        {
            // Equal byte for byte to a text without backslash: the raw string holds no escape.
            var hit = Of(raw);
            if (!hit.IsEmpty || raw.IndexOf((byte)'\\') < 0)
            {
                return hit;
            }
        }
        else if (raw.IndexOf((byte)'\\') < 0)
        {
            return Of(raw);
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

    private static int SlotOf(ReadOnlySpan<byte> text) =>
        text.IsEmpty ? 0 : ((text.Length * 7) + (text[0] * 3) + text[^1]) & (Slots - 1);

    private static (byte[]? Text, int[] Tables)[] Place(Dictionary<byte[], int[]> texts)
    {
        var slots = new (byte[]? Text, int[] Tables)[Slots];
        foreach (var (text, tables) in texts)
        {
            var slot = SlotOf(text);
            while (slots[slot].Text is not null)
            {
                slot = (slot + 1) & (Slots - 1);
            }

            slots[slot] = (text, tables);
        }

        return slots;
    }
}
