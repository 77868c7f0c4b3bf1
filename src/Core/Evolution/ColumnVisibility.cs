using System.Globalization;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Drift;

namespace MskClickHouse.Core.Evolution;

/// <summary>
/// Waits, bounded, until a table's <c>system.columns</c> lists columns that receive every given field: the insert
/// must not start before the columns it writes exist where it lands (a replica that has not applied an ALTER yet
/// would drop the field). The ALTER itself waits for all replicas (<c>alter_sync=2</c>); this re-read confirms it on the
/// server the sink talks to.
/// </summary>
public static class ColumnVisibility
{
    /// <summary>The longest wait, whatever time the invocation has left.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(30);

    /// <returns>The table's columns once they receive every field.</returns>
    /// <exception cref="ClickHouseException">Transient: still not visible at the end of the wait (the partitions are retried).</exception>
    public static async Task<IReadOnlyList<TableColumn>> WaitAsync(IClickHouseGateway gateway, TableName table, IReadOnlyCollection<string> fields, bool importNestedJson, DateTimeOffset giveUpAt, TimeProvider time, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(fields);
        ArgumentNullException.ThrowIfNull(time);
        var started = time.GetUtcNow();
        var until = started + MaxWait < giveUpAt ? started + MaxWait : giveUpAt;
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            var columns = await ColumnReader.ReadAsync(gateway, table, ct);
            var missing = TableColumns.Unknown(columns, fields, importNestedJson);
            if (missing.Count == 0)
            {
                return columns;
            }

            if (time.GetUtcNow() + delay >= until)
            {
                var waited = (time.GetUtcNow() - started).TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);
                throw new ClickHouseException(
                    $"{(columns.Count == 0 ? "table " + table + " is" : "column(s) " + string.Join(", ", missing) + " of " + table + " are")} not visible in system.columns {waited} s after the DDL: the partitions are reported for retry (a replica that has not applied it would drop the fields)",
                    ClickHouseErrorKind.Transient);
            }

            await Task.Delay(delay, time, ct);
            delay = delay * 2 < TimeSpan.FromSeconds(1) ? delay * 2 : TimeSpan.FromSeconds(1);
        }
    }
}
