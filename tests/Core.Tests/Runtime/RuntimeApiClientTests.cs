using System.Text;
using System.Text.Json;
using MskClickHouse.Core.Runtime;
using MskClickHouse.RuntimeApiEmulator;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.Core.Tests.Runtime;

public sealed class RuntimeApiClientTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task GetNext_ReturnsHeadersAsContextAndBodyAsPayload()
    {
        await using var emulator = Emulator.Start(new RuntimeApiEmulatorOptions { FunctionTimeout = TimeSpan.FromSeconds(42) });
        using var client = new RuntimeApiClient(emulator.Endpoint);
        var ct = TestContext.Current.CancellationToken;
        var before = DateTimeOffset.UtcNow;

        var answer = emulator.EnqueueAsync("""{"eventSource":"aws:kafka"}"""u8.ToArray(), Timeout, "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1", ct);
        var invocation = await client.GetNextInvocationAsync(ct);

        Assert.Equal("""{"eventSource":"aws:kafka"}""", Encoding.UTF8.GetString(invocation.Payload.Span));
        Assert.Equal(emulator.Options.FunctionArn, invocation.Context.InvokedFunctionArn);
        Assert.Equal("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1", invocation.Context.TraceId);
        Assert.InRange(invocation.Context.Deadline, before.AddSeconds(41), DateTimeOffset.UtcNow.AddSeconds(43));
        Assert.False(string.IsNullOrEmpty(invocation.Context.RequestId));

        await client.PostResponseAsync(invocation.Context.RequestId, """{"ok":true}"""u8.ToArray(), ct);
        var result = await answer;
        Assert.True(result.Success);
        Assert.Equal(invocation.Context.RequestId, result.RequestId);
        Assert.Equal("""{"ok":true}""", result.BodyText);
        Assert.True(result.CompletedAt >= result.NextServedAt);
    }

    [Fact]
    public async Task GetNext_PayloadLargerThanTheBuffer_IsReadWhole()
    {
        await using var emulator = Emulator.Start();
        using var client = new RuntimeApiClient(emulator.Endpoint);
        var ct = TestContext.Current.CancellationToken;
        var big = new byte[3 * 1024 * 1024 + 17];
        new Random(7).NextBytes(big);

        _ = emulator.EnqueueAsync(big, Timeout, cancellationToken: ct);
        var invocation = await client.GetNextInvocationAsync(ct);

        Assert.True(invocation.Payload.Span.SequenceEqual(big));
    }

    [Fact]
    public async Task GetNext_SecondInvocation_ReusesTheConnectionAndBuffer()
    {
        await using var emulator = Emulator.Start();
        using var client = new RuntimeApiClient(emulator.Endpoint);
        var ct = TestContext.Current.CancellationToken;

        for (var i = 0; i < 3; i++)
        {
            var answer = emulator.EnqueueAsync(Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"), Timeout, cancellationToken: ct);
            var invocation = await client.GetNextInvocationAsync(ct);
            Assert.Equal($"{{\"n\":{i}}}", Encoding.UTF8.GetString(invocation.Payload.Span));
            await client.PostResponseAsync(invocation.Context.RequestId, invocation.Payload.ToArray(), ct);
            Assert.Equal($"{{\"n\":{i}}}", (await answer).BodyText);
        }
    }

    [Fact]
    public async Task PostInvocationError_SendsErrorDocumentAndErrorTypeHeader()
    {
        await using var emulator = Emulator.Start();
        using var client = new RuntimeApiClient(emulator.Endpoint);
        var ct = TestContext.Current.CancellationToken;

        var answer = emulator.EnqueueAsync("{}"u8.ToArray(), Timeout, cancellationToken: ct);
        var invocation = await client.GetNextInvocationAsync(ct);
        await client.PostInvocationErrorAsync(invocation.Context.RequestId, new RuntimeError("InvalidOperationException", "boom", ["at A()", "at B()"]), ct);

        var result = await answer;
        Assert.False(result.Success);
        Assert.Equal("InvalidOperationException", result.ErrorType);
        using var doc = JsonDocument.Parse(result.Body);
        Assert.Equal("boom", doc.RootElement.GetProperty("errorMessage").GetString());
        Assert.Equal("InvalidOperationException", doc.RootElement.GetProperty("errorType").GetString());
        Assert.Equal(["at A()", "at B()"], doc.RootElement.GetProperty("stackTrace").EnumerateArray().Select(e => e.GetString()!));
    }

    [Fact]
    public async Task PostInitError_IsRecordedWithMessageAndType()
    {
        await using var emulator = Emulator.Start();
        using var client = new RuntimeApiClient(emulator.Endpoint);

        await client.PostInitErrorAsync(new RuntimeError("ConfigurationException", "CLICKHOUSE_URL: missing", []), TestContext.Current.CancellationToken);

        var report = await emulator.InitError.WaitAsync(Timeout, TestContext.Current.CancellationToken);
        Assert.Equal("ConfigurationException", report.ErrorType);
        Assert.Equal("CLICKHOUSE_URL: missing", report.ErrorMessage);
    }

    [Fact]
    public async Task PostResponse_ForUnknownRequest_ThrowsRuntimeApiExceptionWithStatus()
    {
        await using var emulator = Emulator.Start();
        using var client = new RuntimeApiClient(emulator.Endpoint);

        var e = await Assert.ThrowsAsync<RuntimeApiException>(() => client.PostResponseAsync("nope", "{}"u8.ToArray(), TestContext.Current.CancellationToken));

        Assert.Equal(400, e.StatusCode);
    }

    [Fact]
    public async Task GetNext_Cancelled_ThrowsOperationCanceled()
    {
        await using var emulator = Emulator.Start();
        using var client = new RuntimeApiClient(emulator.Endpoint);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetNextInvocationAsync(cts.Token));
    }

    [Fact]
    public void RuntimeError_FromException_UsesTheTypeNameAndMessage()
    {
        Exception caught;
        try
        {
            throw new InvalidDataException("bad batch");
        }
        catch (InvalidDataException e)
        {
            caught = e;
        }

        var error = RuntimeError.FromException(caught);

        Assert.Equal("InvalidDataException", error.ErrorType);
        Assert.Equal("bad batch", error.ErrorMessage);
        Assert.NotEmpty(error.StackTrace);
    }
}
