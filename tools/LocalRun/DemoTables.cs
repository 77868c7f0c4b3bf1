using System.Globalization;

namespace MskClickHouse.LocalRun;

/// <summary>
/// The demo tables the local run writes into: mytopic (a raw String value), one table per generated topic (orders
/// and clicks always), and the counts of those plus the function's dead-letter table.
/// </summary>
internal static class DemoTables
{
    public const string DeadLetters = "kafka_dead_letters";

    /// <summary>Creates the database and tables; returns the table names (generated topics in order, then mytopic).</summary>
    public static async Task<List<string>> CreateAsync(ClickHouseEngine engine, string database, LocalRunOptions options, CancellationToken ct)
    {
        const int Window = 10000;
        await engine.QueryAsync($"CREATE DATABASE IF NOT EXISTS {database}", ct);
        await engine.QueryAsync(MetadataDdl.Table(database, "mytopic", "value String", Window), ct);
        var generated = options.Generate > 0 ? options.Topics.ToHashSet(StringComparer.Ordinal) : new HashSet<string>(["orders", "clicks"], StringComparer.Ordinal);
        generated.Add("orders");
        generated.Add("clicks");
        foreach (var topic in generated)
        {
            // clicks is a plain table (no metadata columns); every other generated topic gets them.
            const string Columns = "id String, n UInt64, amount Float64, note String";
            await engine.QueryAsync(
                topic == "clicks"
                    ? $"CREATE TABLE IF NOT EXISTS {database}.{topic} ({Columns}) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = {Window}"
                    : MetadataDdl.Table(database, topic, Columns, Window, ifNotExists: true),
                ct);
        }

        return [.. generated.Order(StringComparer.Ordinal), "mytopic"];
    }

    /// <summary>Row counts of <paramref name="tables"/> and then of the dead-letter table.</summary>
    public static async Task<List<(string Table, long Rows)>> CountAsync(ClickHouseEngine engine, string database, IReadOnlyList<string> tables, CancellationToken ct)
    {
        var counts = new List<(string, long)>();
        foreach (var table in tables.Append(DeadLetters))
        {
            var text = await engine.QueryAsync($"SELECT count() FROM {database}.{table}", ct);
            counts.Add((table, long.Parse(text.Trim(), CultureInfo.InvariantCulture)));
        }

        return counts;
    }
}
