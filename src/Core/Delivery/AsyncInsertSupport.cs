using System.Text;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Errors;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// INSERT_MODE=async is exact only on a server that deduplicates asynchronous inserts by their token, and by the same
/// rule as synchronous ones (the fallback re-sends an asynchronous insert synchronously under its token). Servers that do
/// have the <c>deduplicate_insert</c> setting (one switch for both kinds of insert, default <c>enable</c>; ClickHouse 26.7
/// and the embedded engine); a server without it keeps the two kinds' tokens apart, and a profile that sets it to
/// <c>disable</c> turns deduplication off whatever the insert asks. Checked once at start-up.
/// </summary>
public static class AsyncInsertSupport
{
    public const string Query = "SELECT value FROM system.settings WHERE name = 'deduplicate_insert' FORMAT TSV";

    /// <summary>Why async inserts would not be exact on a server that answered <see cref="Query"/> so; null: they are.</summary>
    public static string? Refusal(string answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var value = answer.Trim();
        return value switch
        {
            "" => "INSERT_MODE=async needs a ClickHouse server that deduplicates synchronous and asynchronous inserts by one token " +
                "(it has the setting deduplicate_insert; ClickHouse 26.7 does): this server has no such setting, so use INSERT_MODE=sync",
            "disable" => "INSERT_MODE=async: the sink user's settings profile sets deduplicate_insert = disable, which turns insert " +
                "deduplication off whatever the insert asks, so no retry would be dropped: set it to enable for this user, or use INSERT_MODE=sync",
            _ => null,
        };
    }

    /// <summary>Reads the server's setting and throws a <see cref="ConfigurationException"/> naming INSERT_MODE when async is not exact there.</summary>
    public static async Task EnsureAsync(IClickHouseGateway gateway, Retrier retrier)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(retrier);
        var answer = await retrier.RunAsync(c => gateway.QueryAsync(Query, c));
        if (Refusal(Encoding.UTF8.GetString(answer)) is { } refusal)
        {
            throw new ConfigurationException("INSERT_MODE", refusal);
        }
    }
}
