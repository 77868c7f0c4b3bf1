using System.Runtime.CompilerServices;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;

namespace MskClickHouse.Core.Routing;

/// <summary>
/// A topic's conditions compiled for the split: per field, header name and key test, the tables each text sends a
/// record to (<see cref="TextTables"/>), and the tables that take every record. A record costs one lookup per field it
/// has, per header of a routed name and per key test, whatever the number of rules. Pure.
/// </summary>
internal sealed class RouteMatcher
{
    private readonly int[] always;
    private readonly TextTables[] fields;
    private readonly (byte[] Name, TextTables Tables)[] headers;
    private readonly TextTables? keyEquals;
    private readonly (byte[] Prefix, int Table)[] keyPrefixes;

    /// <summary>The one field is all the conditions read: its texts' tables already include <see cref="always"/>.</summary>
    private readonly bool fieldOnly;

    /// <param name="conditions">Per table (index as in <see cref="TopicRoutes.Tables"/>): its conditions, null when it takes every record.</param>
    /// <param name="fieldNames">The distinct field names the conditions read (index as in <see cref="TopicRoutes.Fields"/>).</param>
    public RouteMatcher(IReadOnlyList<IReadOnlyList<RouteCondition>?> conditions, IReadOnlyList<string> fieldNames)
    {
        var all = new List<int>();
        fields = fieldNames.Select(_ => new TextTables()).ToArray();
        var headerTables = new List<(byte[] Name, TextTables Tables)>();
        var prefixes = new List<(byte[] Prefix, int Table)>();
        for (var t = 0; t < conditions.Count; t++)
        {
            if (conditions[t] is not { } any)
            {
                all.Add(t);
                continue;
            }

            foreach (var condition in any)
            {
                switch (condition)
                {
                    case FieldEquals f:
                        fields[IndexOf(fieldNames, f.Name)].Add(f.ValueUtf8, t);
                        break;
                    case HeaderEquals h:
                        var at = headerTables.FindIndex(x => x.Name.AsSpan().SequenceEqual(h.NameUtf8));
                        if (at < 0)
                        {
                            headerTables.Add((h.NameUtf8, new TextTables()));
                            at = headerTables.Count - 1;
                        }

                        headerTables[at].Tables.Add(h.ValueUtf8, t);
                        break;
                    case KeyMatches { Prefix: true } k:
                        prefixes.Add((k.ValueUtf8, t));
                        break;
                    case KeyMatches k:
                        (keyEquals ??= new TextTables()).Add(k.ValueUtf8, t);
                        break;
                    default:
                        throw new ArgumentException($"a condition of kind {condition.GetType().Name} cannot be compiled", nameof(conditions));
                }
            }
        }

        always = [.. all];
        headers = [.. headerTables];
        keyPrefixes = [.. prefixes];
        fieldOnly = fields.Length == 1 && headers.Length == 0 && keyEquals is null && keyPrefixes.Length == 0;
        if (fieldOnly)
        {
            fields[0].AddToAll(always);
        }
    }

    /// <summary>
    /// The tables (indexes into <see cref="TopicRoutes.Tables"/>) that take <paramref name="record"/>, each once, in no
    /// set order: a compiled set, or <paramref name="scratch"/> filled. <paramref name="seen"/> (one entry per table)
    /// and <paramref name="mark"/> (distinct per call) keep a table from being listed twice.
    /// </summary>
    /// <param name="json">The JSON the fields were found in.</param>
    /// <param name="found">Per field of <see cref="TopicRoutes.Fields"/>: where its value lies in <paramref name="json"/>.</param>
    public ReadOnlySpan<int> Match(KafkaBatch batch, in KafkaRecord record, ReadOnlySpan<byte> json, ReadOnlySpan<FieldValue> found, Span<int> scratch, Span<int> seen, int mark)
    {
        if (fieldOnly)
        {
            var f = found[0];
            var hit = f.Found ? fields[0].OfJson(json, f.Start, f.Length, f.IsString) : [];
            return hit.IsEmpty ? always : hit;
        }

        return MatchEach(batch, in record, json, found, scratch, seen, mark);
    }

    /// <summary><see cref="Match"/> for several fields, headers or the key: apart, so that one field's lookup keeps a small frame.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ReadOnlySpan<int> MatchEach(KafkaBatch batch, in KafkaRecord record, ReadOnlySpan<byte> json, ReadOnlySpan<FieldValue> found, Span<int> scratch, Span<int> seen, int mark)
    {
        var n = 0;
        foreach (var t in always)
        {
            Take(t, scratch, seen, mark, ref n);
        }

        for (var i = 0; i < fields.Length; i++)
        {
            var f = found[i];
            if (f.Found)
            {
                foreach (var t in fields[i].OfJson(json, f.Start, f.Length, f.IsString))
                {
                    Take(t, scratch, seen, mark, ref n);
                }
            }
        }

        if (headers.Length > 0)
        {
            foreach (var header in batch.HeadersOf(in record))
            {
                if (header.Value.IsNull)
                {
                    continue;
                }

                var name = batch.Bytes(header.Name);
                foreach (var (routed, tables) in headers)
                {
                    if (name.SequenceEqual(routed))
                    {
                        foreach (var t in tables.Of(batch.Bytes(header.Value)))
                        {
                            Take(t, scratch, seen, mark, ref n);
                        }
                    }
                }
            }
        }

        if (!record.Key.IsNull && (keyEquals is not null || keyPrefixes.Length > 0))
        {
            var key = batch.Bytes(record.Key);
            foreach (var t in keyEquals is null ? [] : keyEquals.Of(key))
            {
                Take(t, scratch, seen, mark, ref n);
            }

            foreach (var (prefix, t) in keyPrefixes)
            {
                if (key.StartsWith(prefix))
                {
                    Take(t, scratch, seen, mark, ref n);
                }
            }
        }

        return scratch[..n];
    }

    private static void Take(int table, Span<int> scratch, Span<int> seen, int mark, ref int n)
    {
        if (seen[table] != mark)
        {
            seen[table] = mark;
            scratch[n++] = table;
        }
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (names[i] == name)
            {
                return i;
            }
        }

        throw new ArgumentException($"field '{name}' is not among the fields the routes read", nameof(names));
    }
}
