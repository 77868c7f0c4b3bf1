using System.Text;
using MskClickHouse.Core.ClickHouse;

namespace MskClickHouse.Core.Delivery;

/// <summary>Start-up work on the dead-letter table shared by every mode (sink, replay): create it, migrate it additively.</summary>
public static class DeadLetterTableSetup
{
    /// <summary>
    /// Adds the columns of later versions when some are missing. Only a table of an earlier version is altered: a user
    /// granted SELECT, INSERT, CREATE TABLE suffices otherwise. Returns true (for the retrier).
    /// </summary>
    public static async Task<bool> MigrateAsync(IClickHouseGateway gateway, TableName table, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        var has = await gateway.QueryAsync(DeadLetters.CountAddedColumnsSql(table), cancellationToken);
        if (Encoding.UTF8.GetString(has).Trim() != DeadLetters.AddedColumns.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            await gateway.ExecuteAsync(DeadLetters.MigrateSql(table), cancellationToken);
        }

        return true;
    }
}
