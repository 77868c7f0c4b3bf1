using MskClickHouse.RuntimeApiEmulator;
using MskClickHouse.TestSupport;

[assembly: AssemblyFixture(typeof(MskClickHouse.Bench.Tests.BenchBootstraps))]
[assembly: AssemblyFixture(typeof(ClickHouseFixture))]

namespace MskClickHouse.Bench.Tests;

/// <summary>The Native AOT and JIT bootstraps the bench runs, published once per test run into artifacts/bench-tests/ (skipped when up to date).</summary>
public sealed class BenchBootstraps : IAsyncLifetime
{
    private readonly string _root = BootstrapPublisher.FindRepositoryRoot();

    public string AotBootstrap => Path.Combine(_root, "artifacts", "bench-tests", "aot", "bootstrap");

    public string JitBootstrap => Path.Combine(_root, "artifacts", "bench-tests", "jit", "bootstrap.dll");

    public async ValueTask InitializeAsync()
    {
        var log = new StringWriter();
        await BootstrapPublisher.PublishAsync(_root, Path.GetDirectoryName(AotBootstrap)!, ["-r", "linux-x64"], log, CancellationToken.None);
        await BootstrapPublisher.PublishAsync(_root, Path.GetDirectoryName(JitBootstrap)!, ["-p:PublishAot=false"], log, CancellationToken.None);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
