using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MskClickHouse.RuntimeApiEmulator;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.LocalRun;

/// <summary>
/// Sends MSK events to the bootstrap through the Runtime API emulator, one invocation each, failing fast when the
/// function fails to start or fails an invocation, and counting what was sent into <see cref="InvocationStats"/>.
/// </summary>
internal sealed class FunctionInvoker(Emulator emulator, BootstrapProcess function, Task<InitErrorReport> initError, InvocationStats stats, TextWriter error)
{
    /// <summary>Sends every batch in order; a partial batch response is counted and printed, a function error ends the run.</summary>
    public async Task SendAllAsync(List<byte[]> batches, CancellationToken ct, bool progress = true)
    {
        var watch = Stopwatch.StartNew();
        var lastPrint = 0L;
        foreach (var batch in batches)
        {
            var result = await InvokeAsync(batch, ct);
            if (!result.Success)
            {
                throw new LocalRunException($"the function failed: {result.ErrorType}: {result.ErrorMessage}\n{Tail()}");
            }

            if (BatchItemFailures.Parse(result.Body).Count > 0)
            {
                stats.PartialFailures++;
                await error.WriteLineAsync("partial batch response: " + result.BodyText);
            }

            if (progress && watch.ElapsedMilliseconds - lastPrint > 1000)
            {
                lastPrint = watch.ElapsedMilliseconds;
                await error.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"\r{stats.Records,12:N0} records, {stats.Records / watch.Elapsed.TotalSeconds,10:N0} records/s"));
            }
        }
    }

    public async Task<InvocationResult> InvokeAsync(byte[] payload, CancellationToken ct)
    {
        var invocation = emulator.EnqueueAsync(payload, TimeSpan.FromMinutes(2), cancellationToken: ct);
        var done = await Task.WhenAny(invocation, initError);
        if (done == initError)
        {
            var report = await initError;
            throw new LocalRunException($"the function failed to start: {report.ErrorType}: {report.ErrorMessage}");
        }

        var result = await invocation;
        stats.Add(result.LatencyMs, payload.Length, CountRecords(payload));
        return result;
    }

    private static int CountRecords(byte[] payload)
    {
        using var doc = JsonDocument.Parse(payload);
        return doc.RootElement.GetProperty("records").EnumerateObject().Sum(p => p.Value.GetArrayLength());
    }

    private string Tail() => string.Join('\n', function.StandardOutputLines.TakeLast(10).Concat(function.StandardErrorLines.TakeLast(10)));
}
