using System.Diagnostics.CodeAnalysis;
using System.IO.Compression;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using ClickHouse.Driver;
using ClickHouse.Driver.ADO;

namespace MskClickHouse.Core.ClickHouse;

/// <summary>
/// <see cref="IClickHouseGateway"/> over the official ClickHouse.Driver HTTP client. One instance per process:
/// its HttpClient keeps connections alive across invocations.
/// </summary>
public sealed class DriverClickHouseGateway : IClickHouseGateway, IDisposable
{
    private readonly ClickHouseClient _client;
    private readonly HttpClient _http;
    private readonly RequestCompression _compression;

    /// <param name="connection">URL, user, password, database, CA file, timeout, compression.</param>
    /// <param name="innerHandler">Replaces the socket handler (tests put a fault injector here).</param>
    // ClickHouse.Driver 1.5.0 builds Tuple<double,double> by reflection in a static initializer; keep its constructor under trimming.
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicConstructors, typeof(Tuple<double, double>))]
    public DriverClickHouseGateway(ClickHouseConnection connection, HttpMessageHandler? innerHandler = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _compression = connection.Compression;
        HttpMessageHandler handler = innerHandler ?? CreateHandler(connection.CaFile);
        if (_compression == RequestCompression.Zstd)
        {
            handler = new ZstdContentEncoding(handler);
        }

        _http = new HttpClient(handler, disposeHandler: true)
        {
            Timeout = connection.RequestTimeout,
        };
        var url = connection.Url;
        var settings = new ClickHouseClientSettings
        {
            Host = url.Host,
            Port = (ushort)url.Port,
            Protocol = url.Scheme,
            Path = url.AbsolutePath.Trim('/').Length == 0 ? null : url.AbsolutePath,
            Username = connection.User,
            Password = connection.Password ?? string.Empty,
            Database = connection.Database,
            HttpClient = _http,
            Timeout = connection.RequestTimeout,
            UseCompression = false,
        };
        _client = new ClickHouseClient(settings);
    }

    public async Task<InsertResult> InsertAsync(string insertSql, IReadOnlyList<ReadOnlyMemory<byte>> body, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var options = new QueryOptions { CustomSettings = new Dictionary<string, object>(settings.Count) };
        foreach (var (key, value) in settings)
        {
            options.CustomSettings[key] = value;
        }

        return await Call(insertSql, async () =>
        {
            Stream data = new SegmentStream(body);
            var compressed = false;
            if (_compression != RequestCompression.None)
            {
                data = Compress(body, _compression);
                compressed = true;
            }

            await using (data)
            {
                using var response = await _client.PostStreamAsync(insertSql, data, compressed, cancellationToken, options);
                return ParseSummary(response);
            }
        }, cancellationToken);
    }

    public Task<byte[]> QueryAsync(string sql, CancellationToken cancellationToken) =>
        Call(sql, async () =>
        {
            using var result = await _client.ExecuteRawResultAsync(sql, null, cancellationToken);
            return await result.ReadAsByteArrayAsync();
        }, cancellationToken);

    public Task ExecuteAsync(string sql, CancellationToken cancellationToken) =>
        Call(sql, () => _client.ExecuteNonQueryAsync(sql, null, null, cancellationToken), cancellationToken);

    /// <summary>The statement travels in the request body, the settings in the URL (a long statement fits any URL limit).</summary>
    public Task ExecuteAsync(string sql, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var options = new QueryOptions { CustomSettings = settings.ToDictionary(s => s.Key, s => (object)s.Value) };
        return Call(sql, () => _client.ExecuteNonQueryAsync(sql, null, options, cancellationToken), cancellationToken);
    }

    public void Dispose()
    {
        _client.Dispose();
        _http.Dispose();
    }

    internal static InsertResult ParseSummary(HttpResponseMessage response) => SummaryHeader.Parse(response);

    private static SocketsHttpHandler CreateHandler(string? caFile)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(50),
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        if (caFile is not null)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(caFile);
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                    CertificateTrust.IsTrusted(certificate as X509Certificate2, errors, roots),
            };
        }

        return handler;
    }

    /// <summary>The body through a compressing stream (gzip at its fastest level, zstd at level 1), ready to send.</summary>
    private static MemoryStream Compress(IReadOnlyList<ReadOnlyMemory<byte>> body, RequestCompression compression)
    {
        var output = new MemoryStream();
        using (Stream compressor = compression == RequestCompression.Zstd
            ? new ZstdSharp.CompressionStream(output, level: 1, leaveOpen: true)
            : new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            foreach (var segment in body)
            {
                compressor.Write(segment.Span);
            }
        }

        output.Position = 0;
        return output;
    }

    private static async Task<T> Call<T>(string sql, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call();
        }
        catch (ClickHouseServerException e)
        {
            var message = e.Message;
            var kind = ClickHouseErrors.Classify(e.ErrorCode, message);
            throw new ClickHouseException(
                $"ClickHouse error {e.ErrorCode}{Explanation(e.ErrorCode, kind, message)}: {Truncate(message)}",
                kind,
                serverCode: e.ErrorCode,
                rowNumber: ClickHouseErrors.RowNumberOf(message),
                inner: e);
        }
        catch (HttpRequestException e) when (e.StatusCode is { } status)
        {
            var code = ClickHouseErrors.CodeOf(e.Message);
            var kind = code is { } c ? ClickHouseErrors.Classify(c, e.Message) : ClickHouseErrors.ClassifyStatus((int)status);
            var explanation = code is { } known ? Explanation(known, kind, e.Message) : string.Empty;
            throw new ClickHouseException($"ClickHouse answered HTTP {(int)status}{explanation}: {Truncate(e.Message)}", kind, code, (int)status, ClickHouseErrors.RowNumberOf(e.Message), e);
        }
        catch (HttpRequestException e)
        {
            throw new ClickHouseException($"ClickHouse is unreachable: {e.Message}", ClickHouseErrorKind.Transient, inner: e);
        }
        catch (IOException e)
        {
            throw new ClickHouseException($"connection to ClickHouse failed: {e.Message}", ClickHouseErrorKind.Transient, inner: e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ClickHouseException($"ClickHouse request timed out: {Truncate(sql)}", ClickHouseErrorKind.Transient, inner: e);
        }
    }

    private static async Task<bool> Call(string sql, Func<Task<int>> call, CancellationToken cancellationToken)
    {
        await Call<int>(sql, call, cancellationToken);
        return true;
    }

    /// <summary>What the sink does about an error whose class needs saying in the log line.</summary>
    private static string Explanation(int code, ClickHouseErrorKind kind, string message) => kind switch
    {
        ClickHouseErrorKind.ViewRejected =>
            $" (materialized view {ClickHouseErrors.ViewOf(message)} rejected the block; the table's own block may have landed, so the partition is retried under the same token until the view is fixed or dropped)",
        ClickHouseErrorKind.QueryLimit =>
            " (a per-query limit of the sink's user was exceeded: not retried within the invocation; raise it in the user's settings profile or CLICKHOUSE_SETTINGS, or lower the batch size)",
        _ when !ClickHouseErrors.IsKnown(code) => " (a code the sink does not classify: not retried within the invocation)",
        _ => string.Empty,
    };

    private static string Truncate(string s) => s.Length <= 2000 ? s : s[..2000] + "…";
}

/// <summary>
/// ClickHouse.Driver's PostStreamAsync can only label a compressed body as gzip; with CLICKHOUSE_COMPRESSION=zstd the
/// gateway sends zstd bytes and this handler corrects the label (ClickHouse decodes Content-Encoding: zstd).
/// </summary>
internal sealed class ZstdContentEncoding(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var encoding = request.Content?.Headers.ContentEncoding;
        if (encoding is { Count: 1 } && encoding.Contains("gzip"))
        {
            encoding.Clear();
            encoding.Add("zstd");
        }

        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>Certificate validation against a private CA bundle (CLICKHOUSE_CA_FILE); the system roots are not used then.</summary>
internal static class CertificateTrust
{
    public static bool IsTrusted(X509Certificate2? certificate, SslPolicyErrors errors, X509Certificate2Collection roots)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0 || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
