using MskClickHouse.RuntimeApiEmulator;

[assembly: AssemblyFixture(typeof(MskClickHouse.Function.Tests.PublishedBootstrap))]

namespace MskClickHouse.Function.Tests;

/// <summary>
/// Publishes src/Function once per test run, as Native AOT (linux-x64, the Lambda binary) and as a JIT app
/// (bootstrap.dll, run with dotnet) for comparison, into artifacts/function-tests/ (skipped when up to date).
/// </summary>
public sealed class PublishedBootstrap : IAsyncLifetime
{
    public string RepositoryRoot { get; } = BootstrapPublisher.FindRepositoryRoot();

    public string AotDirectory => Path.Combine(RepositoryRoot, "artifacts", "function-tests", "aot");

    public string JitDirectory => Path.Combine(RepositoryRoot, "artifacts", "function-tests", "jit");

    public string AotBootstrap => Path.Combine(AotDirectory, "bootstrap");

    public string JitBootstrap => Path.Combine(JitDirectory, "bootstrap.dll");

    public string PublishLog { get; private set; } = string.Empty;

    public async ValueTask InitializeAsync()
    {
        var log = new StringWriter();
        await BootstrapPublisher.PublishAsync(RepositoryRoot, AotDirectory, ["-r", "linux-x64"], log, CancellationToken.None);
        await BootstrapPublisher.PublishAsync(RepositoryRoot, JitDirectory, ["-p:PublishAot=false"], log, CancellationToken.None);
        PublishLog = log.ToString();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
