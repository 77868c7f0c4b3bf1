using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Logging;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// What every <see cref="PartitionSender"/> of a process shares: the gateway, the options, the log, the clock, and the
/// dry-run copies bad-row isolation halves units in (one per process: it caches the copies).
/// </summary>
public sealed class SenderServices(IClickHouseGateway gateway, SinkOptions options, ISinkLog log, TimeProvider time)
{
    public IClickHouseGateway Gateway { get; } = gateway;

    public SinkOptions Options { get; } = options;

    public ISinkLog Log { get; } = log;

    public TimeProvider Time { get; } = time;

    public DryRunTable DryRun { get; } = new(gateway, options, log);
}
