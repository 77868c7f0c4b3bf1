using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Metrics;
using MskClickHouse.Core.Runtime;

namespace MskClickHouse.Core.Delivery;

// TEMPORARY, replaced on merge: the real factory (decoding, routing, delivery to ClickHouse) is written on another
// branch. This stand-in lets the runtime loop, the bootstrap and the AOT binary be tested end to end: it answers every
// event with no failures and connects to nothing.

/// <summary>Builds the invocation handler from the options (TEMPORARY stand-in: echo handler).</summary>
public static class SinkHandlerFactory
{
    public static Task<IInvocationHandler> CreateAsync(SinkOptions options, ISinkLog log, IMetricsSink metrics, TimeProvider time, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(time);
        ct.ThrowIfCancellationRequested();
        return Task.FromResult<IInvocationHandler>(new EchoHandler(log, metrics));
    }

    private sealed class EchoHandler(ISinkLog log, IMetricsSink metrics) : IInvocationHandler
    {
        private static readonly byte[] NoFailures = """{"batchItemFailures":[]}"""u8.ToArray();

        public Task<byte[]> HandleAsync(InvocationContext context, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
        {
            log.Write(LogLevel.Information, "Batch received (temporary echo handler)", new LogFields(Numbers: [new("batch_bytes", payload.Length)]));
            metrics.Publish(new InvocationMetrics { BatchBytes = payload.Length });
            return Task.FromResult(NoFailures);
        }
    }
}
