using System.Diagnostics;
using System.Text;
using MskClickHouse.Core.Errors;
using MskClickHouse.Core.Runtime;
using MskClickHouse.Core.Logging;
using MskClickHouse.RuntimeApiEmulator;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.Core.Tests.Runtime;

public sealed class LambdaRuntimeLoopTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Loop_HandlerSucceeds_PostsItsResponse()
    {
        await using var emulator = Emulator.Start();
        using var api = new RuntimeApiClient(emulator.Endpoint);
        var log = new ListLog();
        var handler = new DelegateHandler((_, payload, _) => Task.FromResult(Encoding.UTF8.GetBytes($"{{\"echo\":{Encoding.UTF8.GetString(payload.Span)}}}")));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var loop = new LambdaRuntimeLoop(api, handler, log);
        var running = loop.RunAsync(stop.Token);

        var result = await emulator.EnqueueAsync("[1,2]"u8.ToArray(), Timeout, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(result.Success);
        Assert.Equal("""{"echo":[1,2]}""", result.BodyText);
        await stop.CancelAsync();
        await running.WaitAsync(Timeout, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Loop_HandlerThrows_PostsErrorWithTypeName_LogsIt_AndServesTheNextInvocation()
    {
        await using var emulator = Emulator.Start();
        using var api = new RuntimeApiClient(emulator.Endpoint);
        var log = new ListLog();
        var calls = 0;
        var handler = new DelegateHandler((_, _, _) => Interlocked.Increment(ref calls) == 1
            ? throw new InvalidOperationException("first one fails")
            : Task.FromResult("""{"batchItemFailures":[]}"""u8.ToArray()));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var running = new LambdaRuntimeLoop(api, handler, log).RunAsync(stop.Token);
        var ct = TestContext.Current.CancellationToken;

        var failed = await emulator.EnqueueAsync("{}"u8.ToArray(), Timeout, cancellationToken: ct);
        var succeeded = await emulator.EnqueueAsync("{}"u8.ToArray(), Timeout, cancellationToken: ct);

        Assert.False(failed.Success);
        Assert.Equal("InvalidOperationException", failed.ErrorType);
        Assert.Equal("first one fails", failed.ErrorMessage);
        Assert.True(succeeded.Success);
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Error && e.Exception is InvalidOperationException);
        await stop.CancelAsync();
        await running.WaitAsync(Timeout, ct);
    }

    [Fact]
    public async Task Loop_HandlerToken_FiresBeforeTheDeadline()
    {
        await using var emulator = Emulator.Start(new RuntimeApiEmulatorOptions { FunctionTimeout = TimeSpan.FromMilliseconds(1500) });
        using var api = new RuntimeApiClient(emulator.Endpoint);
        var log = new ListLog();
        DateTimeOffset deadline = default;
        DateTimeOffset cancelledAt = default;
        var handler = new DelegateHandler(async (context, _, ct) =>
        {
            deadline = context.Deadline;
            try
            {
                await Task.Delay(System.Threading.Timeout.Infinite, ct);
            }
            finally
            {
                cancelledAt = DateTimeOffset.UtcNow;
            }

            return [];
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var options = new LambdaRuntimeLoopOptions { DeadlineMargin = TimeSpan.FromMilliseconds(500) };
        var running = new LambdaRuntimeLoop(api, handler, log, options: options).RunAsync(stop.Token);

        var result = await emulator.EnqueueAsync("{}"u8.ToArray(), Timeout, cancellationToken: TestContext.Current.CancellationToken);

        Assert.False(result.Success);
        Assert.Equal("TaskCanceledException", result.ErrorType);
        Assert.InRange((deadline - cancelledAt).TotalMilliseconds, 250, 800);
        Assert.Contains(log.Entries, e => e.Message.Contains("ran out of time", StringComparison.Ordinal));
        await stop.CancelAsync();
        await running.WaitAsync(Timeout, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Loop_SetsTraceIdVariable_AndTellsObserversColdStartOnlyOnce()
    {
        await using var emulator = Emulator.Start();
        using var api = new RuntimeApiClient(emulator.Endpoint);
        var log = new ListLog();
        var seenTraces = new List<string?>();
        var handler = new DelegateHandler((_, _, _) =>
        {
            seenTraces.Add(Environment.GetEnvironmentVariable(LambdaRuntimeLoop.TraceIdVariable));
            return Task.FromResult("{}"u8.ToArray());
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var running = new LambdaRuntimeLoop(api, handler, log, options: new LambdaRuntimeLoopOptions { Observers = [log] }).RunAsync(stop.Token);
        var ct = TestContext.Current.CancellationToken;

        var first = await emulator.EnqueueAsync("{}"u8.ToArray(), Timeout, "Root=1-00000001-000000000000000000000001;Sampled=1", ct);
        var second = await emulator.EnqueueAsync("{}"u8.ToArray(), Timeout, "Root=1-00000002-000000000000000000000002;Sampled=0", ct);

        Assert.Equal(["Root=1-00000001-000000000000000000000001;Sampled=1", "Root=1-00000002-000000000000000000000002;Sampled=0"], seenTraces);
        Assert.Equal([(first.RequestId, true), (second.RequestId, false)], log.Started);
        await stop.CancelAsync();
        await running.WaitAsync(Timeout, ct);
    }

    [Fact]
    public async Task Bootstrap_InitThrowsConfigurationException_PostsInitErrorNamingTheVariable_AndReturnsOne()
    {
        await using var emulator = Emulator.Start();
        using var api = new RuntimeApiClient(emulator.Endpoint);
        var log = new ListLog();

        var exit = await LambdaBootstrap.RunAsync(
            _ => throw new ConfigurationException("CLICKHOUSE_URL", "missing"),
            new LambdaBootstrapOptions { RuntimeApi = api, FallbackLog = () => log, StopOnSigterm = false },
            TestContext.Current.CancellationToken);

        Assert.Equal(LambdaBootstrap.ExitInitFailed, exit);
        var report = await emulator.InitError.WaitAsync(Timeout, TestContext.Current.CancellationToken);
        Assert.Equal("ConfigurationException", report.ErrorType);
        Assert.Contains("CLICKHOUSE_URL", report.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Critical && e.Message.Contains("CLICKHOUSE_URL", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bootstrap_Cancelled_StopsTheLoopAndReturnsZero()
    {
        await using var emulator = Emulator.Start();
        using var api = new RuntimeApiClient(emulator.Endpoint);
        var log = new ListLog();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var handler = new DelegateHandler((_, _, _) => Task.FromResult("{}"u8.ToArray()));

        var running = LambdaBootstrap.RunAsync(
            _ => Task.FromResult(new LambdaApplication(handler, log, [log])),
            new LambdaBootstrapOptions { RuntimeApi = api, StopOnSigterm = false },
            stop.Token);
        Assert.True((await emulator.EnqueueAsync("{}"u8.ToArray(), Timeout, cancellationToken: TestContext.Current.CancellationToken)).Success);
        var watch = Stopwatch.StartNew();
        await stop.CancelAsync();

        Assert.Equal(LambdaBootstrap.ExitOk, await running.WaitAsync(Timeout, TestContext.Current.CancellationToken));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2));
    }
}
