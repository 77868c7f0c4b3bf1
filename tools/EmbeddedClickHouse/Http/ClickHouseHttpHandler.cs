using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Microsoft.AspNetCore.Http;
using MskClickHouse.EmbeddedClickHouse.Chdb;

namespace MskClickHouse.EmbeddedClickHouse.Http;

/// <summary>ClickHouse's HTTP interface (the subset ClickHouse.Driver uses) in front of the chDB engine.</summary>
internal sealed class ClickHouseHttpHandler(ChdbEngine engine, SessionBaseline baseline, Credentials credentials, TextWriter? log)
{
    private const int ChunkSize = 1 << 20;

    /// <summary>How much of a body that carries its own query is examined for <c>INSERT ... FORMAT X</c>.</summary>
    private const int BodyHeadLimit = 1 << 20;

    public async Task HandleAsync(HttpContext context)
    {
        var stopwatch = Stopwatch.StartNew();
        var request = context.Request;
        var response = context.Response;
        var parameters = RequestParameters.From(request.Query);
        response.Headers["X-ClickHouse-Query-Id"] = string.IsNullOrEmpty(parameters.QueryId) ? Guid.NewGuid().ToString() : parameters.QueryId;
        response.Headers["X-ClickHouse-Timezone"] = baseline.Timezone;
        var logged = parameters.Query ?? string.Empty;
        try
        {
            if (request.Path == "/ping" || (request.Path == "/" && HttpMethods.IsGet(request.Method) && string.IsNullOrEmpty(parameters.Query)))
            {
                await WriteTextAsync(response, StatusCodes.Status200OK, "Ok.\n", QuerySummary.Empty(stopwatch.Elapsed), head: HttpMethods.IsHead(request.Method));
                return;
            }

            if (request.Path != "/" || !(HttpMethods.IsGet(request.Method) || HttpMethods.IsPost(request.Method)))
            {
                await WriteTextAsync(response, StatusCodes.Status404NotFound, $"There is no handle {request.Path}\n", QuerySummary.Empty(stopwatch.Elapsed), head: false);
                return;
            }

            var (user, valid) = credentials.Check(request, parameters);
            if (!valid)
            {
                throw new ChdbException(516, $"Code: 516. DB::Exception: {user}: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)");
            }

            var outcome = await ExecuteAsync(request, parameters, stopwatch, context.RequestAborted);
            logged = outcome.Sql;
            await outcome.WriteAsync(response, WantsGzip(request, parameters), context.RequestAborted);
        }
        catch (ChdbException ex)
        {
            response.Headers["X-ClickHouse-Exception-Code"] = ex.Code.ToString(CultureInfo.InvariantCulture);
            await WriteTextAsync(response, (int)ErrorStatus.For(ex.Code), ex.Message + "\n", QuerySummary.Empty(stopwatch.Elapsed), head: false);
        }
        finally
        {
            log?.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{request.Method} {Truncate(logged)} -> {response.StatusCode} {stopwatch.Elapsed.TotalMilliseconds:F1}ms"));
        }
    }

    private static bool WantsGzip(HttpRequest request, RequestParameters parameters) =>
        parameters.EnableHttpCompression && request.Headers.AcceptEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase);

    private static string Truncate(string sql)
    {
        var line = sql.ReplaceLineEndings(" ");
        return line.Length <= 200 ? line : line[..200];
    }

    private static async Task WriteTextAsync(HttpResponse response, int status, string text, QuerySummary summary, bool head)
    {
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=UTF-8";
        response.Headers["X-ClickHouse-Summary"] = summary.ToHeader();
        var bytes = Encoding.UTF8.GetBytes(text);
        response.ContentLength = bytes.Length;
        if (!head)
        {
            await response.Body.WriteAsync(bytes);
        }
    }

    private static bool HasBody(HttpRequest request) =>
        request.ContentLength > 0 || request.Headers.TransferEncoding.ToString().Contains("chunked", StringComparison.OrdinalIgnoreCase);

    private async Task<Outcome> ExecuteAsync(HttpRequest request, RequestParameters parameters, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        var body = HasBody(request)
            ? await RequestBody.OpenAsync(request, () => engine.AcquireAsync(cancellationToken), cancellationToken)
            : Stream.Null;
        try
        {
            if (!string.IsNullOrEmpty(parameters.Query))
            {
                if (body != Stream.Null && InsertStatement.FromQuery(parameters.Query) is { } insert)
                {
                    return await InsertAsync(insert, ReadOnlyMemory<byte>.Empty, body, parameters, stopwatch, cancellationToken);
                }

                var rest = await ReadToEndAsync(body, cancellationToken);
                return await QueryAsync(rest.Length == 0 ? parameters.Query : parameters.Query + "\n" + rest, parameters, stopwatch, cancellationToken);
            }

            // No query in the URL: the body starts with it, and for an INSERT the data follows it.
            var head = new byte[BodyHeadLimit];
            var headLength = await body.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
            var headText = Encoding.Latin1.GetString(head, 0, headLength);
            if (InsertStatement.FromBodyHead(headText, out var dataOffset) is { } bodyInsert)
            {
                var statement = Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(bodyInsert.Statement));
                return await InsertAsync(
                    bodyInsert with { Statement = statement },
                    head.AsMemory(dataOffset, headLength - dataOffset), body, parameters, stopwatch, cancellationToken);
            }

            var sql = Encoding.UTF8.GetString(head, 0, headLength) + await ReadToEndAsync(body, cancellationToken);
            return await QueryAsync(sql, parameters, stopwatch, cancellationToken);
        }
        finally
        {
            if (body != request.Body && body != Stream.Null)
            {
                await body.DisposeAsync();
            }
        }
    }

    private static async Task<string> ReadToEndAsync(Stream body, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(body, Encoding.UTF8, leaveOpen: true);
        return await reader.ReadToEndAsync(cancellationToken);
    }

    private async Task<Outcome> QueryAsync(string sql, RequestParameters parameters, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        var format = OutputFormat.Of(sql, parameters.DefaultFormat);
        using var lease = await engine.AcquireAsync(cancellationToken);
        using var scope = RequestScope.Enter(lease, baseline, parameters.Database, parameters.Settings);
        var result = lease.Query(sql, parameters.DefaultFormat, parameters.QueryParameters);
        return new QueryOutcome(sql, result, format, QuerySummary.ForQuery(result, stopwatch.Elapsed));
    }

    private async Task<Outcome> InsertAsync(
        InsertStatement insert,
        ReadOnlyMemory<byte> head,
        Stream body,
        RequestParameters parameters,
        Stopwatch stopwatch,
        CancellationToken cancellationToken)
    {
        using var lease = await engine.AcquireAsync(cancellationToken);
        using var scope = RequestScope.Enter(lease, baseline, parameters.Database, parameters.Settings);
        using var stream = lease.BeginInsert(insert.Statement, insert.Format);
        stream.Append(head.Span);
        var received = (ulong)head.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            int read;
            while ((read = await body.ReadAtLeastAsync(buffer, ChunkSize, throwOnEndOfStream: false, cancellationToken)) > 0)
            {
                stream.Append(buffer.AsSpan(0, read));
                received += (ulong)read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        using var result = stream.Complete();
        return new InsertOutcome(insert.Statement + " FORMAT " + insert.Format, QuerySummary.ForInsert(result, received, stopwatch.Elapsed));
    }

    private abstract record Outcome(string Sql)
    {
        public abstract Task WriteAsync(HttpResponse response, bool gzip, CancellationToken cancellationToken);
    }

    private sealed record InsertOutcome(string Sql, QuerySummary Summary) : Outcome(Sql)
    {
        public override Task WriteAsync(HttpResponse response, bool gzip, CancellationToken cancellationToken)
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.Headers["X-ClickHouse-Summary"] = Summary.ToHeader();
            response.ContentLength = 0;
            return Task.CompletedTask;
        }
    }

    private sealed record QueryOutcome(string Sql, ChdbResult Result, string Format, QuerySummary Summary) : Outcome(Sql)
    {
        public override async Task WriteAsync(HttpResponse response, bool gzip, CancellationToken cancellationToken)
        {
            using var result = Result;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = OutputFormat.ContentType(Format);
            response.Headers["X-ClickHouse-Format"] = Format;
            response.Headers["X-ClickHouse-Summary"] = Summary.ToHeader();
            await using var output = result.OpenRead();
            if (gzip && result.Length > 0)
            {
                response.Headers.ContentEncoding = "gzip";
                await using var compressed = new GZipStream(response.Body, CompressionLevel.Fastest, leaveOpen: true);
                await output.CopyToAsync(compressed, cancellationToken);
                return;
            }

            response.ContentLength = result.Length;
            await output.CopyToAsync(response.Body, cancellationToken);
        }
    }
}
