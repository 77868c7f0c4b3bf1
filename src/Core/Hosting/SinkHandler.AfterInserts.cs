using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Logging;

namespace MskClickHouse.Core.Hosting;

/// <summary>After the inserts: the check that no poller planned on top of ours, and the landed marks.</summary>
public sealed partial class SinkHandler
{
    /// <summary>
    /// A second poller may load the state after our plan was recorded (so it plans on top of ours and its check finds
    /// nothing newer than what it loaded) while we are still inserting: it then sends part of our ranges under our
    /// tokens, and if its smaller body lands first, ClickHouse drops ours as a duplicate and our answer still says
    /// success. So after the inserts, read (sequentially consistent) whether another plan for the partition was
    /// recorded since ours; if so, the partition is answered as a failure and retried from the newest state. A poller
    /// that records its plan after this read starts inserting after every insert of ours was answered, so it cannot
    /// swallow ours (docs/exactly-once.md, case table).
    /// </summary>
    private async Task CheckNotOvertakenAsync(SourceIdentity source, List<Work> work, DateTimeOffset giveUpAt, CancellationToken ct)
    {
        var delivered = work.Where(w => w.Outcome.Failure is null).ToList();
        if (delivered.Count == 0)
        {
            return;
        }

        var version = delivered[0].SavedVersion;
        IReadOnlyDictionary<PartitionKey, PartitionState> later;
        try
        {
            later = (await _retrier.RunAsync(c => _state.ConcurrentPlansAsync(source, delivered.Select(w => (w.Plan.NewState, version)).ToList(), version, c), giveUpAt, null, ct)).Conflicts;
        }
        catch (Exception e) when (e is Errors.SinkException or OperationCanceledException)
        {
            // Unknown whether a concurrent poller spent our tokens: answer as failures, the retry re-plans.
            foreach (var w in delivered)
            {
                Fail(w.Outcome, Explain(e, w.Outcome));
            }

            return;
        }

        foreach (var w in delivered.Where(w => later.ContainsKey(w.Plan.NewState.Key)))
        {
            Fail(w.Outcome, new OvertakenByConcurrentBatchException(w.Outcome));
        }
    }

    /// <summary>
    /// For tables without offset columns, records after the inserts that the delivered ranges landed, so a redelivered
    /// subset of them (a lost commit followed by a smaller batch) sends nothing instead of a possibly duplicated tail.
    /// Tables with offset columns do not need it: ClickHouse answers which offsets are present.
    /// </summary>
    /// <returns>The landed states and their version when the mark was acknowledged; null when none was needed or its outcome is unknown.</returns>
    private async Task<(IReadOnlyCollection<PartitionState> States, long Version)?> RecordLandedAsync(SourceIdentity source, List<Work> work, DateTimeOffset giveUpAt, CancellationToken ct)
    {
        // Fenced on the plan's own version: a mark applied late, after another plan was recorded, is dropped.
        var landed = work
            .Where(w => w.Outcome.Failure is null && !w.Encoded.Shape.HasOffsetColumns)
            .Select(w => new StateWrite(Reconciler.Landed(w.Plan, new OffsetRange(w.Outcome.Source.FirstOffset, w.Outcome.Source.LastOffset)), w.SavedVersion))
            .ToList();
        if (landed.Count == 0)
        {
            return null;
        }

        try
        {
            var version = _state.NewVersion();
            await _retrier.RunAsync(async c => { await _state.SaveAsync(source, landed, version, c); return true; }, giveUpAt, null, ct);
            return (landed.Select(l => l.State).ToList(), version);
        }
        catch (OperationCanceledException)
        {
            _log.Write(LogLevel.Warning, "no time left to record the landed ranges after the inserts; a later subset of them is handled as outcome unknown");
        }
        catch (ClickHouseException e)
        {
            // Nothing is lost: without the mark a later subset is handled as "outcome unknown" (bounded, reported).
            _log.Write(LogLevel.Warning, $"could not record the landed ranges after the inserts: {e.Message}", new LogFields(ErrorCode: e.ServerCode));
        }

        return null;
    }
}
