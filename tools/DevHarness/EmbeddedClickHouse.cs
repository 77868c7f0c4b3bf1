using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace MskClickHouse.DevHarness;

/// <summary>
/// A real ClickHouse engine (chDB) behind ClickHouse's HTTP interface, running as a child process
/// for the lifetime of this object. Needs libchdb.so from scripts/install-chdb.sh.
/// </summary>
public sealed class EmbeddedClickHouse : IAsyncDisposable
{
    private const string ReadyPrefix = "listening ";

    private readonly Process _process;
    private readonly string _dataDirectory;
    private EmbeddedClickHouse(Process process, string dataDirectory, Uri baseUri, string user, string password)
    {
        _process = process;
        _dataDirectory = dataDirectory;
        BaseUri = baseUri;
        User = user;
        Password = password;
        Client = new EngineClient(baseUri, user, password);
    }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri BaseUri { get; }

    public string User { get; }

    public string Password { get; }

    /// <summary>Plain SQL over the HTTP interface, as the server's user.</summary>
    public EngineClient Client { get; }

    /// <summary>For <c>new ClickHouseClient(connectionString)</c> of ClickHouse.Driver.</summary>
    public string ConnectionString =>
        string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={BaseUri.Port};Username={User};Password={Password}");

    /// <summary>Starts a server on a free port with a fresh data directory and waits until it answers.</summary>
    public static async Task<EmbeddedClickHouse> StartAsync(EmbeddedClickHouseOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new EmbeddedClickHouseOptions();
        var serverDll = Path.Combine(AppContext.BaseDirectory, "EmbeddedClickHouse.dll");
        if (!File.Exists(serverDll))
        {
            throw new FileNotFoundException("EmbeddedClickHouse.dll is not next to the tests; reference tools/DevHarness (or tests/TestSupport).", serverDll);
        }

        var dataDirectory = Directory.CreateTempSubdirectory("embedded-clickhouse-test-").FullName;
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { serverDll, "--port", "0", "--data", dataDirectory, "--exit-on-stdin-close", "--user", options.User, "--password", options.Password })
        {
            start.ArgumentList.Add(argument);
        }

        if (options.LibraryPath is { } library)
        {
            start.ArgumentList.Add("--lib");
            start.ArgumentList.Add(library);
        }

        if (options.LogRequests)
        {
            start.ArgumentList.Add("--log");
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + start.FileName);
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }

            options.StandardErrorSink?.Invoke(e.Data);
        };
        process.BeginErrorReadLine();

        try
        {
            var port = await ReadPortAsync(process, options.StartTimeout, cancellationToken);
            return new EmbeddedClickHouse(process, dataDirectory, new Uri($"http://127.0.0.1:{port}/"), options.User, options.Password);
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or OperationCanceledException)
        {
            Stop(process);
            TryDelete(dataDirectory);
            string errors;
            lock (stderr)
            {
                errors = stderr.ToString();
            }

            throw new InvalidOperationException($"EmbeddedClickHouse did not start: {ex.Message}\nstderr:\n{errors}", ex);
        }
    }

    /// <summary>Runs SQL over plain HTTP and returns the body (TabSeparated unless the SQL says FORMAT); see <see cref="EngineClient.QueryAsync"/>.</summary>
    public Task<string> QueryAsync(string sql, CancellationToken cancellationToken = default) => Client.QueryAsync(sql, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            // Closing stdin asks the server to shut down cleanly (it closes the chDB connection).
            _process.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Stop(_process);
        }

        _process.Dispose();
        TryDelete(_dataDirectory);
    }

    private static async Task<int> ReadPortAsync(Process process, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        linked.CancelAfter(timeout);
        try
        {
            while (await process.StandardOutput.ReadLineAsync(linked.Token) is { } line)
            {
                if (line.StartsWith(ReadyPrefix, StringComparison.Ordinal))
                {
                    // Keep draining stdout so the child can never block on a full pipe.
                    _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null, CancellationToken.None);
                    return new Uri(line[ReadyPrefix.Length..]).Port;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no '{ReadyPrefix}' line within {timeout.TotalSeconds:F0}s");
        }

        await process.WaitForExitAsync(CancellationToken.None);
        throw new InvalidOperationException($"the server exited with code {process.ExitCode} before it was ready");
    }

    private static string DotnetHost()
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
        {
            return host;
        }

        var root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        return !string.IsNullOrEmpty(root) && File.Exists(Path.Combine(root, "dotnet")) ? Path.Combine(root, "dotnet") : "dotnet";
    }

    private static void Stop(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // Temporary files only; leave them to the OS.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
