using MskClickHouse.Core.ClickHouse;

namespace MskClickHouse.Core.Evolution;

/// <summary>
/// Runs one evolution DDL statement: a transient failure is retried until the invocation gives up (the statements are
/// idempotent); a refusal (permission, read-only user) becomes an error naming the grant the sink user lacks, not retried.
/// </summary>
public static class DdlRunner
{
    /// <summary><c>alter_sync=2</c>: an ALTER of a Replicated table returns once every replica applied it.</summary>
    public static readonly IReadOnlyDictionary<string, string> AlterSettings = new Dictionary<string, string> { ["alter_sync"] = "2" };

    private static readonly IReadOnlyDictionary<string, string> NoSettings = new Dictionary<string, string>();

    /// <param name="grant">The privilege the statement needs, as GRANT names it (<c>ALTER ADD COLUMN</c>, <c>CREATE TABLE</c>).</param>
    /// <param name="option">The option that makes the sink run it.</param>
    public static async Task RunAsync(IClickHouseGateway gateway, string sql, bool isAlter, TableName table, string grant, string option, DateTimeOffset giveUpAt, TimeProvider time, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(time);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await gateway.ExecuteAsync(sql, isAlter ? AlterSettings : NoSettings, ct);
                return;
            }
            catch (ClickHouseException e) when (e.Kind is ClickHouseErrorKind.Permission or ClickHouseErrorKind.Auth)
            {
                throw new ClickHouseException(
                    $"ClickHouse refused {grant} on {table} ({option}): grant it to the sink's user (GRANT {grant} ON {table.Sql} TO <sink user>; docs/schema-evolution.md#grants) or turn the option off. Server said: {e.Message}",
                    ClickHouseErrorKind.Permission,
                    e.ServerCode,
                    e.HttpStatus,
                    inner: e);
            }
            catch (ClickHouseException e) when (e.IsRetryable)
            {
                var delay = TimeSpan.FromMilliseconds(Math.Min(100 * (1 << Math.Min(attempt, 5)), 2000));
                if (time.GetUtcNow() + delay >= giveUpAt)
                {
                    throw;
                }

                await Task.Delay(delay, time, ct);
            }
        }
    }
}
