using Xunit;

namespace MskClickHouse.TestSupport;

// Inside the namespace: MskClickHouse.EmbeddedClickHouse (the server) would otherwise win the name lookup.
using EmbeddedClickHouse = MskClickHouse.DevHarness.EmbeddedClickHouse;

/// <summary>
/// One embedded ClickHouse per test assembly. Use it with
/// <c>[assembly: AssemblyFixture(typeof(ClickHouseFixture))]</c> and take it as a constructor
/// parameter. Tests share the engine, so each one works in its own database
/// (<see cref="CreateDatabaseAsync"/>) or on uniquely named tables (<see cref="UniqueName"/>).
/// </summary>
public sealed class ClickHouseFixture : IAsyncLifetime
{
    private EmbeddedClickHouse? _server;

    public EmbeddedClickHouse Server => _server ?? throw new InvalidOperationException("the fixture is not initialized");

    public string ConnectionString => Server.ConnectionString;

    /// <summary>A name no other test uses: <paramref name="prefix"/>_ plus 16 hex digits.</summary>
    public static string UniqueName(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..(prefix.Length + 17)];

    /// <summary>Creates a fresh database and returns its name.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "test", CancellationToken cancellationToken = default)
    {
        var name = UniqueName(prefix);
        await Server.QueryAsync($"CREATE DATABASE {name}", cancellationToken);
        return name;
    }

    public async ValueTask InitializeAsync() => _server = await EmbeddedClickHouse.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }
    }
}
