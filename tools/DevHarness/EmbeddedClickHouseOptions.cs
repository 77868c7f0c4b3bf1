namespace MskClickHouse.DevHarness;

/// <summary>How to start an <see cref="EmbeddedClickHouse"/>.</summary>
public sealed record EmbeddedClickHouseOptions
{
    public string User { get; init; } = "default";

    public string Password { get; init; } = string.Empty;

    /// <summary>libchdb.so; null means CHDB_LIB, else the install script's cache path.</summary>
    public string? LibraryPath { get; init; }

    /// <summary>Loading the 560 MB engine and binding the port takes a few seconds on a cold page cache.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Have the server log every request to its stderr.</summary>
    public bool LogRequests { get; init; }

    /// <summary>Receives each stderr line of the server (e.g. to forward it to test output).</summary>
    public Action<string>? StandardErrorSink { get; init; }
}
