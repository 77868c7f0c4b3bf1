using System.Globalization;
using System.Text;
using System.Text.Json;
using MskClickHouse.RuntimeApiEmulator;

namespace MskClickHouse.LocalRun;

/// <summary>
/// Schema drift, shown: a producer starts sending a field the orders table has no column for. ClickHouse drops it
/// silently; the function's sampled check (UNKNOWN_FIELDS_SAMPLE, default 1 in 100 by offset) names it in metric
/// UnknownFields and one warning, which this demo waits for and prints. The records go to a partition of orders the
/// run did not use (one past the generated ones), after the exactly-once checks, so the earlier figures are unchanged.
/// </summary>
internal static class UnknownFieldsDemo
{
    private const string NewField = "coupon";

    /// <returns>False when the function did not report the new field (a failed check).</returns>
    public static async Task<bool> RunAsync(FunctionInvoker invoker, BootstrapProcess function, LocalRunOptions options, TextWriter output, CancellationToken ct)
    {
        if (options.ValueFormat != "json")
        {
            await output.WriteLineAsync($"unknown fields: demo skipped (orders values are {options.ValueFormat}-framed in this run; the check reads them the same way)");
            return true;
        }

        var partition = options.Partitions;
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"unknown fields: a producer adds \"{NewField}\" to orders (partition {partition}, offsets 100-102; offset 100 is sampled) ..."));
        var result = await invoker.InvokeAsync(Batch(partition), ct);
        if (!result.Success)
        {
            await output.WriteLineAsync($"FAILED the drifted batch was not delivered: {result.ErrorType}");
            return false;
        }

        try
        {
            var line = await function.WaitForOutputLineAsync(
                l => l.Contains("\"metric\":\"UnknownFields\"", StringComparison.Ordinal) && l.Contains($"\"fields\":\"{NewField}", StringComparison.Ordinal),
                TimeSpan.FromSeconds(15));
            using var doc = JsonDocument.Parse(line);
            await output.WriteLineAsync("OK    UnknownFields named the new field: " + doc.RootElement.GetProperty("message").GetString());
            return true;
        }
        catch (TimeoutException)
        {
            await output.WriteLineAsync($"FAILED no UnknownFields warning named \"{NewField}\" within 15 s");
            return false;
        }
    }

    private static byte[] Batch(int partition)
    {
        static string Record(int partition, long offset) =>
            $$"""{"topic":"orders","partition":{{partition}},"offset":{{offset}},"timestamp":{{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}},"timestampType":"CREATE_TIME","key":null,"value":"{{Convert.ToBase64String(Encoding.UTF8.GetBytes($$"""{"id":"drift-{{offset}}","n":{{offset}},"amount":9.5,"note":"new producer version","{{NewField}}":"XMAS24"}"""))}}","headers":[]}""";
        return Encoding.UTF8.GetBytes(
            """{"eventSource":"aws:kafka","eventSourceArn":"arn:aws:kafka:us-east-1:123456789012:cluster/local-run/drift","records":{"""
            + $"\"orders-{partition}\":[" + string.Join(',', Enumerable.Range(100, 3).Select(o => Record(partition, o))) + "]}}");
    }
}
