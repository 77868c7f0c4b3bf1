using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace MskClickHouse.Core.Delivery.State;

/// <summary>A partition's plan as <see cref="InsertGroups.Assign"/> sees it: the table it goes to and whether it may join a group.</summary>
/// <param name="Eligible">The table can be asked which records it holds, drops a retried insert, writes through no view,
/// and no other source shares the partition's state name (docs/exactly-once.md, "One insert per table").</param>
public readonly record struct GroupCandidate(string Table, PartitionPlan Plan, bool Eligible);

/// <summary>
/// One insert per table per invocation: the new ranges of every eligible partition of a table go out as one insert
/// under one token, so a batch of 32 partitions writes one part per table (per table partition touched) instead of 32.
/// Pure. A plan joins its table's group only when it is one new range (the steady state): a redelivery, a fill, a rewind
/// and a first sight of a partition keep their own inserts. Each member's state entry records the group (before any
/// insert, like every token), so a later redelivery of a member re-sends its rows through the fill path, whose round 0
/// is the group's token: any content sent under it consumes it, and the fill's presence reads make up the rest.
/// </summary>
public static class InsertGroups
{
    /// <summary>Plans with the groups assigned: members of a table's group (two or more) carry its hash in their new range's send and entry.</summary>
    public static List<PartitionPlan> Assign(IReadOnlyList<GroupCandidate> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        var plans = candidates.Select(c => c.Plan).ToList();
        var byTable = Enumerable.Range(0, candidates.Count)
            .Where(i => candidates[i].Eligible && IsOneNewRange(candidates[i].Plan))
            .GroupBy(i => candidates[i].Table, StringComparer.Ordinal);
        foreach (var members in byTable)
        {
            var indexes = members.ToList();
            if (indexes.Count < 2)
            {
                continue;
            }

            var group = Hash(members.Key, indexes.Select(i => candidates[i].Plan));
            foreach (var i in indexes)
            {
                plans[i] = Join(plans[i], group);
            }
        }

        return plans;
    }

    /// <summary>Exactly one send, a new range that needs no presence read first.</summary>
    private static bool IsOneNewRange(PartitionPlan plan) =>
        plan.Sends is [{ Kind: SendKind.Fresh, ProbeFirst: false }] && !plan.NewState.Legacy;

    private static PartitionPlan Join(PartitionPlan plan, ulong group)
    {
        var send = plan.Sends[0];
        var entries = plan.NewState.Entries.Select(e => e.Range == send.Records ? e with { Group = group } : e).ToList();
        return new PartitionPlan([send with { Group = group }], plan.NewState with { Entries = entries });
    }

    /// <summary>
    /// Names the table and every member's state key, range and nonce, in a fixed order: identical batches planned from
    /// the same state get the same group (two deliveries at once share its token), any other membership another. Never 0.
    /// </summary>
    private static ulong Hash(string table, IEnumerable<PartitionPlan> members)
    {
        var text = new StringBuilder(table);
        foreach (var p in members.OrderBy(p => p.NewState.Key.Topic, StringComparer.Ordinal).ThenBy(p => p.NewState.Key.Partition))
        {
            var r = p.Sends[0].Records;
            text.Append('\n').Append(p.NewState.Key.Topic).Append('\t').Append(p.NewState.Key.Partition)
                .Append('\t').Append(r.First).Append('-').Append(r.Last).Append('~').Append(p.NewState.Nonce);
        }

        var hash = BinaryPrimitives.ReadUInt64LittleEndian(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
        return hash == 0 ? 1 : hash;
    }
}
