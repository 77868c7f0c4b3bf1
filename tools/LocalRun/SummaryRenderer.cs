using System.Globalization;
using System.Text;

namespace MskClickHouse.LocalRun;

/// <summary>The summary after the run: a Markdown table of counts, throughput and latency, then sample rows per table.</summary>
internal static class SummaryRenderer
{
    public static async Task PrintSummaryAsync(List<(string Table, long Rows)> counts, InvocationStats stats, TimeSpan elapsed, TextWriter output)
    {
        var sorted = stats.SortedLatenciesMs();
        double P(double q) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
        var s = elapsed.TotalSeconds;
        var sb = new StringBuilder()
            .AppendLine()
            .AppendLine("| metric | value |")
            .AppendLine("| --- | --- |")
            .AppendLine(CultureInfo.InvariantCulture, $"| records sent | {stats.Records:N0} in {stats.Invocations:N0} invocations |");
        foreach (var (table, rows) in counts)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {(table == DemoTables.DeadLetters ? "dead letters" : "rows in " + table)} | {rows:N0} |");
        }

        sb.AppendLine(CultureInfo.InvariantCulture, $"| partial batch responses | {stats.PartialFailures:N0} |")
            .AppendLine(CultureInfo.InvariantCulture, $"| wall time | {s:0.00} s |")
            .AppendLine(CultureInfo.InvariantCulture, $"| throughput | {stats.Records / s:N0} records/s, {stats.Bytes / 1048576.0 / s:0.00} MB/s of events |")
            .AppendLine(CultureInfo.InvariantCulture, $"| latency per invocation | p50 {P(0.5):0.0} ms, p95 {P(0.95):0.0} ms |");
        await output.WriteAsync(sb.ToString());
    }

    /// <summary>Up to three rows of every non-empty table (dead letters with value and error cut short).</summary>
    public static async Task PrintSampleRowsAsync(ClickHouseEngine engine, string database, List<(string Table, long Rows)> counts, TextWriter output, CancellationToken ct)
    {
        foreach (var (table, rows) in counts.Where(c => c.Rows > 0))
        {
            var columns = table == DemoTables.DeadLetters ? "topic, partition, offset, substring(ifNull(value, ''), 1, 40) AS value, substring(error, 1, 60) AS error" : "*";
            var text = await engine.QueryAsync($"SELECT {columns} FROM {database}.{table} LIMIT 3 FORMAT PrettyCompactMonoBlock", ct);
            await output.WriteLineAsync($"\n{database}.{table}:\n{text.TrimEnd()}");
        }
    }
}
