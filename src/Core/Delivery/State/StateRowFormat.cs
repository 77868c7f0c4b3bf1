using System.Buffers;
using System.Globalization;
using System.Text.Json;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Json;

namespace MskClickHouse.Core.Delivery.State;

/// <summary>
/// The state table's row format: how a partition's state is written (entries, rounds, range counts) and how the state
/// rows and plan records are read back (one column list and one parser for both reads). Pure.
/// </summary>
internal static class StateRowFormat
{
    /// <summary>One row as the fenced write's input reads it: the table's columns and the write's expected version.</summary>
    internal static void WriteRow(ArrayBufferWriter<byte> body, string sinkId, PartitionState s, string rowSource, DateTimeOffset now, long version, long expected)
    {
        body.Write("{\"sink_id\":"u8);
        JsonText.WriteString(body, sinkId);
        body.Write(",\"source\":"u8);
        JsonText.WriteString(body, rowSource);
        body.Write(",\"topic\":"u8);
        JsonText.WriteString(body, s.Key.Topic);
        body.Write(",\"partition\":"u8);
        JsonText.WriteNumber(body, s.Key.Partition);
        body.Write(",\"generation\":"u8);
        JsonText.WriteNumber(body, s.Generation);
        body.Write(",\"nonce\":"u8);
        JsonText.WriteString(body, s.Nonce.ToString(CultureInfo.InvariantCulture));
        // The entries, then one array per entry attribute added since (parallel to them: older tables add the column).
        WriteParallel(body, ",\"entries\":["u8, s.Entries, static (b, e) =>
        {
            b.Write("{\"first\":"u8);
            JsonText.WriteNumber(b, e.Range.First);
            b.Write(",\"last\":"u8);
            JsonText.WriteNumber(b, e.Range.Last);
            b.Write(",\"token_first\":"u8);
            JsonText.WriteNumber(b, e.TokenRange.First);
            b.Write(",\"token_last\":"u8);
            JsonText.WriteNumber(b, e.TokenRange.Last);
            b.Write(",\"generation\":"u8);
            JsonText.WriteNumber(b, e.Generation);
            b.Write(e.Pending ? ",\"pending\":1"u8 : ",\"pending\":0"u8);
            // The range's known outcome: 1 landed, 2 landed in the table but rejected by a view, 0 not known (3: not
            // known, and its first insert may have left out records the table held: StateEntry.ProbedFirst).
            b.Write(e.Landed ? ",\"landed\":1}"u8 : e.ViewFailed ? ",\"landed\":2}"u8 : e.ProbedFirst ? ",\"landed\":3}"u8 : ",\"landed\":0}"u8);
        });
        WriteParallel(body, ",\"rounds\":["u8, s.Entries, static (b, e) => JsonText.WriteNumber(b, e.Round));
        WriteParallel(body, ",\"range_counts\":["u8, s.Entries, static (b, e) =>
        {
            b.Write("{\"records\":"u8);
            JsonText.WriteNumber(b, e.Count?.Records ?? -1);
            b.Write(",\"skipped\":"u8);
            JsonText.WriteNumber(b, e.Count?.Skipped ?? -1);
            b.Write("}"u8);
        });
        WriteParallel(body, ",\"insert_groups\":["u8, s.Entries, static (b, e) => JsonText.WriteString(b, e.Group.ToString(CultureInfo.InvariantCulture)));
        WriteParallel(body, ",\"window_marks\":["u8, s.Entries, static (b, e) =>
        {
            b.Write("{\"block\":"u8);
            JsonText.WriteNumber(b, e.Mark?.Block ?? -1);
            b.Write(",\"at\":"u8);
            JsonText.WriteNumber(b, e.Mark?.AtMs ?? -1);
            b.Write("}"u8);
        });
        body.Write(",\"updated_at\":"u8);
        JsonText.WriteTimestamp(body, now.ToUnixTimeMilliseconds());
        body.Write(",\"version\":"u8);
        JsonText.WriteNumber(body, version);
        body.Write(",\"expected\":"u8);
        JsonText.WriteNumber(body, expected);
        body.Write("}\n"u8);
    }

    /// <summary>One JSON array of the row, an item per entry: <paramref name="head"/> (<c>,"name":[</c>), the items, <c>]</c>.</summary>
    private static void WriteParallel(ArrayBufferWriter<byte> body, ReadOnlySpan<byte> head, IReadOnlyList<StateEntry> entries, Action<ArrayBufferWriter<byte>, StateEntry> item)
    {
        body.Write(head);
        for (var i = 0; i < entries.Count; i++)
        {
            if (i > 0)
            {
                body.Write(","u8);
            }

            item(body, entries[i]);
        }

        body.Write("]"u8);
    }

    /// <summary>The columns of a recorded plan, as <see cref="PlanOf"/> reads them (state rows and plan records alike).</summary>
    internal const string PlanColumns = "generation, nonce, version, " + EntriesText + " AS entries, arrayStringConcat(arrayMap(r -> toString(r), rounds), ',') AS rounds, " + CountsText + " AS counts, " +
        "arrayStringConcat(arrayMap(g -> toString(g), " + ClickHouseStateStore.GroupsColumn + "), ',') AS groups, " +
        "arrayStringConcat(arrayMap(m -> concat(toString(m.1), ':', toString(m.2)), " + ClickHouseStateStore.WindowMarksColumn + "), ',') AS marks";

    private const string CountsText = "arrayStringConcat(arrayMap(c -> concat(toString(c.1), ':', toString(c.2)), " + ClickHouseStateStore.RangeCountsColumn + "), ',')";

    /// <summary>A plan read back from a row selected with <see cref="PlanColumns"/>.</summary>
    internal static PartitionState PlanOf(JsonElement row, PartitionKey key, bool legacy) => new(
        key,
        (int)row.GetProperty("generation").GetUInt32(),
        ParseEntries(row.GetProperty("entries").GetString()!, row.GetProperty("rounds").GetString()!, row.TryGetProperty("counts", out var c) ? c.GetString() : null, row.TryGetProperty("groups", out var g) ? g.GetString() : null, row.TryGetProperty("marks", out var m) ? m.GetString() : null),
        (ulong)Number(row.GetProperty("nonce")),
        legacy,
        (long)Number(row.GetProperty("version")));

    /// <summary>A UInt64 as JSONEachRow writes it: quoted by default (output_format_json_quote_64bit_integers), bare otherwise.</summary>
    internal static ulong Number(JsonElement e) =>
        ulong.Parse(e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText(), NumberStyles.None, CultureInfo.InvariantCulture);

    private const string EntriesText =
        "arrayStringConcat(arrayMap(e -> concat(toString(e.1), ':', toString(e.2), ':', toString(e.3), ':', toString(e.4), ':', toString(e.5), ':', toString(e.6), ':', toString(e.7)), entries), ',')";

    internal static string Pairs(IEnumerable<PartitionKey> keys) =>
        string.Join(", ", keys.Select(k => $"({SqlIdentifier.Literal(k.Topic)}, {k.Partition.ToString(CultureInfo.InvariantCulture)})"));

    internal static List<StateEntry> ParseEntries(string text, string rounds, string? counts = null, string? groups = null, string? marks = null)
    {
        var entries = new List<StateEntry>();
        var markList = (marks ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries);
        var groupList = (groups ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries);
        var roundList = rounds.Split(',', StringSplitOptions.RemoveEmptyEntries);
        var countList = (counts ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries);
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var p = item.Split(':');
            long L(int i) => long.Parse(p[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            var round = entries.Count < roundList.Length ? int.Parse(roundList[entries.Count], CultureInfo.InvariantCulture) : 0;
            entries.Add(new StateEntry(new OffsetRange(L(0), L(1)), new OffsetRange(L(2), L(3)), (int)L(4), p[5] == "1", p.Length > 6 && p[6] == "1", round, CountAt(countList, entries.Count), GroupAt(groupList, entries.Count), MarkAt(markList, entries.Count), p.Length > 6 && p[6] == "2", p.Length > 6 && p[6] == "3"));
        }

        return entries;
    }

    /// <summary>The insert group of entry <paramref name="i"/>: 0 (none) for rows written before groups.</summary>
    private static ulong GroupAt(string[] groups, int i) =>
        i < groups.Length ? ulong.Parse(groups[i], NumberStyles.None, CultureInfo.InvariantCulture) : 0;

    /// <summary>The window mark of entry <paramref name="i"/>: null for rows written before marks, or -1 (not known).</summary>
    private static WindowMark? MarkAt(string[] marks, int i) =>
        PairAt(marks, i) is var (block, at) && block >= 0 ? new WindowMark(block, at) : null;

    /// <summary>The count recorded for entry <paramref name="i"/>: null for rows written before counts, or -1 (not known).</summary>
    private static RangeCount? CountAt(string[] counts, int i) =>
        PairAt(counts, i) is var (records, skipped) && records >= 0 && skipped >= 0 ? new RangeCount((int)records, (int)skipped) : null;

    /// <summary>Entry <paramref name="i"/> of a tuple column read as <c>a:b</c>; (-1, -1) when the row has none.</summary>
    private static (long A, long B) PairAt(string[] pairs, int i)
    {
        if (i >= pairs.Length)
        {
            return (-1, -1);
        }

        var colon = pairs[i].IndexOf(':', StringComparison.Ordinal);
        return (long.Parse(pairs[i].AsSpan(0, colon), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),
            long.Parse(pairs[i].AsSpan(colon + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
    }
}
