using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Core.Delivery;

/// <summary>Carries out one partition's plan: data inserts under their tokens, then their dead letters.</summary>
public sealed class PartitionDelivery
{
    private readonly IClickHouseGateway _gateway;
    private readonly Retrier _retrier;
    private readonly SinkOptions _options;
    private readonly ISinkLog _log;
    private readonly TimeProvider _time;

    /// <summary>Where units ClickHouse rejects without naming a row are halved without landing anything (one per sink: it caches the copies).</summary>
    private readonly DryRunTable _dryRun;

    public PartitionDelivery(IClickHouseGateway gateway, Retrier retrier, SinkOptions options, ISinkLog log, TimeProvider time)
    {
        _gateway = gateway;
        _retrier = retrier;
        _options = options;
        _log = log;
        _time = time;
        _dryRun = new DryRunTable(gateway, retrier, options, log);
    }

    public async Task DeliverAsync(KafkaBatch batch, SourceIdentity source, EncodedPartition encoded, PartitionPlan plan, PartitionOutcome outcome, DateTimeOffset giveUpAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(outcome);
        var attempt = new PartitionAttempt(_gateway, _retrier, _options, _log, _time, _dryRun, batch, source, plan.NewState.ScopeFor(_options.SinkId, source), encoded, outcome, giveUpAt, cancellationToken);
        var sends = new PlannedSendRunner(attempt);
        foreach (var send in plan.Sends)
        {
            await sends.SendAsync(send);
        }
    }
}
