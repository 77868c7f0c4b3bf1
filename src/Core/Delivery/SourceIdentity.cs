using System.Globalization;
using System.Text;
using MskClickHouse.Core.Events;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// The Kafka cluster a batch came from: the event's <c>eventSourceArn</c> (MSK), or its <c>bootstrapServers</c>
/// (self-managed Kafka, whose events carry no ARN). Two clusters can both have a topic "orders": state, tokens and
/// presence probes are keyed by this as well as by topic and partition, so they never skip each other's offsets.
/// </summary>
public sealed record SourceIdentity(string Name)
{
    /// <summary>16 hex digits of a stable 64-bit hash of <see cref="Name"/>: the token component (tokens stay short).</summary>
    public string Hash { get; } = Fnv1a64(Name).ToString("x16", CultureInfo.InvariantCulture);

    public static SourceIdentity Of(KafkaBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return new SourceIdentity(batch.SourceName);
    }

    /// <summary>FNV-1a, 64 bit, over UTF-8: stable across processes and versions (string.GetHashCode is not).</summary>
    public static ulong Fnv1a64(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }

        return hash;
    }

    public override string ToString() => Name;
}
