using System.Text;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Core.Routing;

/// <summary>
/// Decodes, for a registry-framed value, the JSON object a field condition reads (the record the transcoders produce);
/// false when the value cannot be decoded (its fields are then absent). The span is valid until the next call on the thread.
/// </summary>
public delegate bool ValueJson(ReadOnlySpan<byte> value, out ReadOnlySpan<byte> json);

/// <summary>
/// Splits one partition's records among the topic's tables. Pure. Reads only what the conditions need: a header, the
/// key, or each field name once by a byte scan of the value that stops at it; a topic routed by topic only (every table
/// takes all) reads nothing and copies nothing.
/// </summary>
public static class PartitionRouter
{
    private const int ShownValueLength = 64;

    /// <param name="json">For registry-framed values: their decoded JSON; null when the values are JSON themselves.</param>
    public static PartitionRouting Route(KafkaBatch batch, PartitionRecords partition, TopicRoutes routes, TombstonePolicy tombstones, UnroutedPolicy unrouted, ValueJson? json = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(partition);
        ArgumentNullException.ThrowIfNull(routes);
        if (routes.TakesAll && routes.Tables.Count > 0)
        {
            return new PartitionRouting(
                partition,
                routes.Tables.Select((t, i) => new RoutedRecords(t, partition, routes.StateTopics[i])).ToList(),
                null,
                [],
                0,
                0,
                RecordTargets.Every(partition.Records.Length, routes.Tables.Count));
        }

        var records = partition.Records;
        var tables = routes.Tables.Count;
        // One pass over the records: per record its tables (RouteMatcher), back to back (most records go to one table);
        // then each table's record indexes (Split).
        var starts = new int[records.Length + 1];
        var targets = new int[Math.Max(1, records.Length)];
        var n = 0;
        Span<int> counts = tables <= 64 ? stackalloc int[tables] : new int[tables];
        Span<int> seen = tables <= 64 ? stackalloc int[tables] : new int[tables];
        Span<int> scratch = tables <= 64 ? stackalloc int[tables] : new int[tables];
        counts.Clear();
        seen.Clear();
        List<int>? unroutedIndexes = null;
        List<RejectedRecord>? reasons = null;
        int skipped = 0, tombstonesSkipped = 0;
        Span<FieldValue> fields = routes.Fields.Count <= 8 ? stackalloc FieldValue[routes.Fields.Count] : new FieldValue[routes.Fields.Count];
        // The names as an array, read once per partition rather than through the list per record.
        ReadOnlySpan<byte[]> names = routes.FieldsUtf8 as byte[][] ?? [.. routes.FieldsUtf8];
        for (var i = 0; i < records.Length; i++)
        {
            ref readonly var record = ref records[i];
            var value = ReadFields(batch, in record, names, json, fields);
            var hit = routes.Matcher.Match(batch, in record, value, fields, scratch, seen, i + 1);
            starts[i] = n;
            if (!hit.IsEmpty)
            {
                if (targets.Length - n < hit.Length)
                {
                    Array.Resize(ref targets, Math.Max(targets.Length * 2, n + hit.Length));
                }

                foreach (var t in hit)
                {
                    targets[n++] = t;
                    counts[t]++;
                }

                continue;
            }

            string? reason = record.Error;
            if (record.IsTombstone)
            {
                if (tombstones == TombstonePolicy.Skip)
                {
                    tombstonesSkipped++;
                    continue;
                }

                reason = "tombstone (null value)";
            }
            else if (unrouted == UnroutedPolicy.Skip && reason is null)
            {
                skipped++;
                continue;
            }

            reason = reason is null ? NoRoute(batch, in record, routes, value, fields) : reason + "; " + NoRoute(batch, in record, routes, value, fields);
            (unroutedIndexes ??= []).Add(i);
            (reasons ??= []).Add(new RejectedRecord(unroutedIndexes.Count - 1, reason));
        }

        starts[records.Length] = n;
        var routed = Split(partition, routes, starts, targets, counts);
        return new PartitionRouting(
            partition,
            routed,
            unroutedIndexes is null ? null : partition.Subset([.. unroutedIndexes]),
            reasons is null ? [] : reasons,
            skipped,
            tombstonesSkipped,
            new RecordTargets(starts, targets));
    }

    /// <summary>
    /// Each table's records as a subset of the partition (<see cref="PartitionRecords.Subset"/>: their indexes, no
    /// copy; the partition itself for a table that receives every record); the targets renumbered from the topic's
    /// tables to the tables in the returned list.
    /// </summary>
    private static List<RoutedRecords> Split(PartitionRecords partition, TopicRoutes routes, int[] starts, int[] targets, Span<int> counts)
    {
        var records = partition.Count;
        var tables = counts.Length;
        var routed = new List<RoutedRecords>();
        var indexes = new int[tables][];
        Span<int> routedIndex = tables <= 64 ? stackalloc int[tables] : new int[tables];
        var receiving = 0;
        for (var t = 0; t < tables; t++)
        {
            routedIndex[t] = counts[t] > 0 ? receiving++ : -1;
            indexes[t] = counts[t] > 0 && counts[t] < records ? new int[counts[t]] : [];
        }

        // Every table receiving records (the usual case) keeps its index: no renumbering.
        var renumber = receiving != tables;
        counts.Clear();
        for (var i = 0; i < records; i++)
        {
            for (var k = starts[i]; k < starts[i + 1]; k++)
            {
                var t = targets[k];
                var own = indexes[t];
                if (own.Length > 0)
                {
                    own[counts[t]++] = i;
                }

                if (renumber)
                {
                    targets[k] = routedIndex[t];
                }
            }
        }

        for (var t = 0; t < tables; t++)
        {
            if (routedIndex[t] >= 0)
            {
                var subset = indexes[t].Length == 0 ? partition : partition.Subset(indexes[t]);
                routed.Add(new RoutedRecords(routes.Tables[t], subset, routes.StateTopics[t]));
            }
        }

        return routed;
    }

    /// <summary>Finds each field the conditions read, once; returns the JSON they were read from.</summary>
    private static ReadOnlySpan<byte> ReadFields(KafkaBatch batch, in KafkaRecord record, ReadOnlySpan<byte[]> names, ValueJson? json, Span<FieldValue> fields)
    {
        if (fields.Length == 0)
        {
            return default;
        }

        var value = record.IsTombstone || record.Error is not null ? default : batch.Bytes(record.Value);
        if (json is not null && !value.IsEmpty && !json(value, out value))
        {
            value = default;
        }

        for (var f = 0; f < fields.Length; f++)
        {
            fields[f] = !value.IsEmpty && TopLevelField.Find(value, names[f], out var start, out var length, out var isString)
                ? new FieldValue(true, start, length, isString)
                : default;
        }

        return value;
    }

    /// <summary>
    /// Why a record has no route, naming what the rules test and what the record holds there (values cut to 64
    /// characters), so the reason names the missing route: <c>field 'type' = "signup"</c>.
    /// </summary>
    private static string NoRoute(KafkaBatch batch, in KafkaRecord record, TopicRoutes routes, ReadOnlySpan<byte> value, ReadOnlySpan<FieldValue> fields)
    {
        if (routes.Refused is { } refused)
        {
            return $"no route for topic '{routes.Topic}': {refused}";
        }

        var seen = new List<string>();
        foreach (var condition in routes.Conditions.Where(c => c is not null).SelectMany(c => c!))
        {
            var shown = condition switch
            {
                HeaderEquals h => $"header '{h.Name}' {Shown(FirstHeader(batch, in record, h.NameUtf8))}",
                KeyMatches => "key " + (record.Key.IsNull ? "absent" : Shown(batch.Bytes(record.Key))),
                FieldEquals f => $"field '{f.Name}' {ShownField(value, fields[routes.FieldIndex(f)])}",
                _ => string.Empty,
            };
            if (!seen.Contains(shown))
            {
                seen.Add(shown);
            }
        }

        return $"unrouted: no rule of topic '{routes.Topic}' matches this record ({string.Join(", ", seen)}): add a rule for it to ROUTES, or set UNROUTED=skip";
    }

    private static byte[]? FirstHeader(KafkaBatch batch, in KafkaRecord record, byte[] name)
    {
        foreach (var header in batch.HeadersOf(in record))
        {
            if (batch.Bytes(header.Name).SequenceEqual(name))
            {
                return header.Value.IsNull ? null : batch.Bytes(header.Value).ToArray();
            }
        }

        return null;
    }

    private static string Shown(ReadOnlySpan<byte> text) => "= '" + Cut(Encoding.UTF8.GetString(text)) + "'";

    private static string Shown(byte[]? text) => text is null ? "absent" : Shown(text.AsSpan());

    private static string ShownField(ReadOnlySpan<byte> value, FieldValue field) => !field.Found
        ? "absent"
        : field.IsString ? "= \"" + Cut(Encoding.UTF8.GetString(value.Slice(field.Start, field.Length))) + "\"" : "= " + Cut(Encoding.UTF8.GetString(value.Slice(field.Start, field.Length)));

    private static string Cut(string text) => text.Length <= ShownValueLength ? text : text[..ShownValueLength] + "…";

}
