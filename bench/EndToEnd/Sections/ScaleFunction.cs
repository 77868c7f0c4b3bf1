using MskClickHouse.RuntimeApiEmulator;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.Bench.EndToEnd.Sections;

/// <summary>One execution environment of the scale simulation: a bootstrap process, its emulator, its recording proxy to the engine.</summary>
internal sealed class ScaleFunction : IAsyncDisposable
{
    private ScaleFunction(Emulator emulator, CountingProxy proxy, BootstrapProcess process)
    {
        Emulator = emulator;
        Proxy = proxy;
        Process = process;
    }

    public Emulator Emulator { get; }

    public CountingProxy Proxy { get; }

    public BootstrapProcess Process { get; }

    public static ScaleFunction Start(BenchContext context, string bootstrap, string db)
    {
        var emulator = Emulator.Start(new RuntimeApiEmulatorOptions { FunctionTimeout = TimeSpan.FromMinutes(2) });
        var proxy = new CountingProxy(context.Engine.Url.Port);
        var env = context.Env(new Uri($"http://127.0.0.1:{proxy.Port}"), db, "none");
        env["TOPIC_TABLES"] = $"{ScaleEvents.Topic}={ScaleSection.Target}";
        return new ScaleFunction(emulator, proxy, BootstrapProcess.Start(bootstrap, emulator.Endpoint, env));
    }

    /// <summary>The next event of these partitions through this environment: its time and its requests.</summary>
    public Task<(double Ms, RequestAnatomy Requests)> InvokeAsync(ScaleEvents events, int[] partitions, int records, CancellationToken ct)
    {
        byte[] mskEvent;
        lock (events)
        {
            mskEvent = events.Next(partitions, records);
        }

        return InvokeAsync(mskEvent, ct);
    }

    public async Task<(double Ms, RequestAnatomy Requests)> InvokeAsync(byte[] mskEvent, CancellationToken ct)
    {
        Proxy.TakeExchanges(); // requests between invocations (none expected) are not this invocation's
        var ms = await BenchContext.InvokeAsync(Emulator, Process, mskEvent, ct);
        return (ms, RoundTrips.Of(Proxy.TakeExchanges()));
    }

    public async ValueTask DisposeAsync()
    {
        Process.Terminate();
        await Process.WaitForExitAsync(TimeSpan.FromSeconds(10));
        Process.Dispose();
        await Emulator.DisposeAsync();
        await Proxy.DisposeAsync();
    }
}
