using System.Globalization;
using System.Net;
using MskClickHouse.RuntimeApiEmulator;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.Tools.Tests.RuntimeApiEmulator;

/// <summary>The emulated Runtime API's own rules, spoken to over raw HTTP as a runtime would.</summary>
public sealed class RuntimeApiEmulatorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Next_DeadlineIsServedTimePlusTheFunctionTimeout_AndTheResponseCompletesTheInvocation()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var emulator = Emulator.Start(new RuntimeApiEmulatorOptions { FunctionTimeout = TimeSpan.FromSeconds(90) });
        using var http = Runtime(emulator);

        var invocation = emulator.EnqueueAsync("""{"records":{}}"""u8.ToArray(), Timeout, cancellationToken: ct);
        var before = DateTimeOffset.UtcNow;
        using var next = await http.GetAsync(new Uri("invocation/next", UriKind.Relative), ct);
        var after = DateTimeOffset.UtcNow;
        var requestId = Header(next, "Lambda-Runtime-Aws-Request-Id");
        var deadline = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(Header(next, "Lambda-Runtime-Deadline-Ms"), CultureInfo.InvariantCulture));
        using var posted = await http.PostAsync(new Uri($"invocation/{requestId}/response", UriKind.Relative), new StringContent("""{"batchItemFailures":[]}"""), ct);
        var result = await invocation;

        Assert.Equal("""{"records":{}}""", await next.Content.ReadAsStringAsync(ct));
        Assert.InRange(deadline, before.AddSeconds(90).AddMilliseconds(-1), after.AddSeconds(90).AddMilliseconds(1));
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        Assert.True(result.Success);
        Assert.Equal(requestId, result.RequestId);
        Assert.Equal("""{"batchItemFailures":[]}""", result.BodyText);
        Assert.True(result.LatencyMs >= 0);
    }

    [Fact]
    public async Task Response_OverTheLimit_Is413_AndTheInvocationCanStillBeAnswered()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var emulator = Emulator.Start(new RuntimeApiEmulatorOptions { MaxResponseBytes = 16 });
        using var http = Runtime(emulator);

        var invocation = emulator.EnqueueAsync("{}"u8.ToArray(), Timeout, cancellationToken: ct);
        using var next = await http.GetAsync(new Uri("invocation/next", UriKind.Relative), ct);
        var requestId = Header(next, "Lambda-Runtime-Aws-Request-Id");
        using var tooLarge = await http.PostAsync(new Uri($"invocation/{requestId}/response", UriKind.Relative), new StringContent(new string('x', 17)), ct);
        using var error = new StringContent("""{"errorMessage":"too large","errorType":"Function.ResponseSizeTooLarge"}""");
        error.Headers.Add("Lambda-Runtime-Function-Error-Type", "Function.ResponseSizeTooLarge");
        using var reported = await http.PostAsync(new Uri($"invocation/{requestId}/error", UriKind.Relative), error, ct);
        var result = await invocation;

        Assert.Equal((HttpStatusCode)413, tooLarge.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, reported.StatusCode);
        Assert.False(result.Success);
        Assert.Equal("Function.ResponseSizeTooLarge", result.ErrorType);
        Assert.Equal("too large", result.ErrorMessage);
    }

    [Fact]
    public async Task Response_SecondAnswerOrUnknownRequestId_Is400()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var emulator = Emulator.Start();
        using var http = Runtime(emulator);

        var invocation = emulator.EnqueueAsync("{}"u8.ToArray(), Timeout, cancellationToken: ct);
        using var next = await http.GetAsync(new Uri("invocation/next", UriKind.Relative), ct);
        var requestId = Header(next, "Lambda-Runtime-Aws-Request-Id");
        using var first = await http.PostAsync(new Uri($"invocation/{requestId}/response", UriKind.Relative), new StringContent("{}"), ct);
        await invocation;
        using var second = await http.PostAsync(new Uri($"invocation/{requestId}/response", UriKind.Relative), new StringContent("{}"), ct);
        using var unknown = await http.PostAsync(new Uri("invocation/not-a-request/response", UriKind.Relative), new StringContent("{}"), ct);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, second.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("not-a-request", await unknown.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
    }

    private static HttpClient Runtime(Emulator emulator) => new() { BaseAddress = new Uri($"http://{emulator.Endpoint}/2018-06-01/runtime/") };

    private static string Header(HttpResponseMessage response, string name) => response.Headers.GetValues(name).Single();
}
