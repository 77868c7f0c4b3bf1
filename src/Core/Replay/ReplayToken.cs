using System.Globalization;
using System.Text;
using MskClickHouse.Core.Delivery;

namespace MskClickHouse.Core.Replay;

/// <summary>
/// The deduplication tokens of a replay. Pure.
/// <para>
/// <b>Data</b>: one token per dead letter, from its original identity and content:
/// <c>replay:&lt;sink&gt;:&lt;source-hash&gt;:&lt;topic&gt;:&lt;partition&gt;:&lt;offset&gt;~&lt;content-hash&gt;</c>. It is the
/// same for every generation of the dead letter and for every replay invocation, so however often the record is
/// replayed (retried, run twice, at once, or again after it failed once more) the target table keeps one copy
/// within its deduplication window. One record per token (not per group): the set of dead letters a replay takes
/// depends on its filter, its limit and which of them fail, and a group token would name different rows each time.
/// The content hash (timestamp, key, value) keeps two different records at one offset (a recreated topic) apart.
/// </para>
/// <para>
/// <b>Marks</b>: the outcome rows and new dead letters of one group go in one insert under a token over what it
/// records (identities, generations, outcome kinds), so a retry that reaches the same outcomes writes them once.
/// </para>
/// </summary>
public static class ReplayToken
{
    public static string ForRecord(string sinkId, DeadLetterRecord letter)
    {
        ArgumentNullException.ThrowIfNull(letter);
        var content = string.Create(CultureInfo.InvariantCulture, $"{letter.TimestampMs}|{Nullable(letter.KeyBase64)}|{Nullable(letter.ValueBase64)}");
        return string.Create(
            CultureInfo.InvariantCulture,
            $"replay:{sinkId}:{new SourceIdentity(letter.Source).Hash}:{letter.Topic}:{letter.Partition}:{letter.Offset}~{SourceIdentity.Fnv1a64(content):x16}");
    }

    public static string ForMarks(string sinkId, IEnumerable<ReplayOutcome> outcomes)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        var text = new StringBuilder();
        foreach (var o in outcomes.OrderBy(o => o.Letter.Source, StringComparer.Ordinal).ThenBy(o => o.Letter.Topic, StringComparer.Ordinal).ThenBy(o => o.Letter.Partition).ThenBy(o => o.Letter.Offset))
        {
            text.Append(CultureInfo.InvariantCulture, $"{o.Letter.Source}|{o.Letter.Topic}|{o.Letter.Partition}|{o.Letter.Offset}|{o.Letter.Generation}|{o.Kind}\n");
        }

        return string.Create(CultureInfo.InvariantCulture, $"replay-marks:{sinkId}:{SourceIdentity.Fnv1a64(text.ToString()):x16}");
    }

    private static string Nullable(string? base64) => base64 is null ? "null" : "b" + base64;
}
