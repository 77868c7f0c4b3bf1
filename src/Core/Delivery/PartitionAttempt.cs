using System.Globalization;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// What one attempt at delivering one partition works with: the I/O (gateway, retrier, log, clock), the sink's options,
/// the partition's encoded rows and token scope, the outcome it fills in and the instant it gives up at. Every request
/// of the attempt goes through <see cref="RetryAsync{T}"/>: retried until <see cref="GiveUpAt"/>, each retry logged with
/// the partition.
/// </summary>
internal sealed class PartitionAttempt(
    IClickHouseGateway gateway,
    Retrier retrier,
    SinkOptions options,
    ISinkLog log,
    TimeProvider time,
    DryRunTable dryRun,
    KafkaBatch batch,
    SourceIdentity source,
    TokenScope scope,
    EncodedPartition encoded,
    PartitionOutcome outcome,
    DateTimeOffset giveUpAt,
    CancellationToken cancellationToken)
{
    public IClickHouseGateway Gateway { get; } = gateway;

    public SinkOptions Options { get; } = options;

    public ISinkLog Log { get; } = log;

    public TimeProvider Time { get; } = time;

    /// <summary>The sink's dry-run copies (<see cref="DryRunTable"/>), where bad-row isolation halves units.</summary>
    public DryRunTable DryRun { get; } = dryRun;

    /// <summary>The invocation's cancellation (the deadline included).</summary>
    public CancellationToken CancellationToken { get; } = cancellationToken;

    public KafkaBatch Batch { get; } = batch;

    public SourceIdentity Source { get; } = source;

    public TokenScope Scope { get; } = scope;

    public EncodedPartition Encoded { get; } = encoded;

    public PartitionOutcome Outcome { get; } = outcome;

    public DateTimeOffset GiveUpAt { get; } = giveUpAt;

    /// <summary>The partition's records, as decoded.</summary>
    public PartitionRecords Records => Encoded.Source;

    /// <summary>The data token of a range of this partition at a fencing round.</summary>
    public string Token(OffsetRange range, int generation, int round) =>
        DeduplicationToken.ForData(Scope, Records.Topic, Records.Partition, range, generation, round);

    /// <summary>Runs one request, retrying transient failures until <see cref="GiveUpAt"/>.</summary>
    public Task<T> RetryAsync<T>(Func<CancellationToken, Task<T>> call) => retrier.RunAsync(call, GiveUpAt, OnRetry, CancellationToken);

    private void OnRetry(ClickHouseException e, int attempt, TimeSpan delay) =>
        Log.Write(
            LogLevel.Warning,
            $"transient ClickHouse failure, retrying: {e.Message}",
            new LogFields(Records.Topic, Records.Partition, Table: Encoded.Table.ToString(), ErrorCode: e.ServerCode, Numbers: [new("attempt", attempt), new("delay_ms", (long)delay.TotalMilliseconds)]));

    /// <summary>A number in SQL text.</summary>
    public static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);
}
