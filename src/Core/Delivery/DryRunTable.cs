using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Logging;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// Inserts into a <c>Null</c>-engine copy of a target table: the server parses the rows, computes DEFAULT and MATERIALIZED
/// expressions and checks CHECK constraints exactly as for the target, answers the same data errors, and stores nothing.
/// <see cref="BadRowIsolation"/> halves a unit here when ClickHouse rejects it without naming a row, so that no part of
/// the unit ever lands under a token of its own: the good rows then land as one block under the unit's token, like every
/// other path, and no sub-token is left for a late apply to use (docs/exactly-once.md, "Data errors").
/// <para>
/// The copy is <c>CREATE TABLE … AS &lt;target&gt; ENGINE = Null</c> in the state table's database (the sink creates its
/// tables there already). Measured on chDB 26.7: <c>AS … ENGINE = Null</c> keeps columns, types, DEFAULT/MATERIALIZED/ALIAS
/// expressions and CHECK constraints, and drops indexes, projections and TTLs (which Null does not support). Its name
/// carries a hash of the target's <c>create_table_query</c>, read again after <see cref="SchemaCheckInterval"/>: an ALTER
/// of the target makes a new copy, so a copy judges rows against an old schema for at most that long.
/// </para>
/// <para>
/// A cluster of Atomic databases behind a load balancer has the copy only on the nodes that created it: a dry run that
/// meets a node without it (code 60) makes the unit fall back to halving under sub-tokens (create the copy
/// <c>ON CLUSTER</c> to avoid that). ClickHouse Cloud and Replicated databases replicate the CREATE.
/// </para>
/// </summary>
public sealed class DryRunTable
{
    private readonly IClickHouseGateway _gateway;
    private readonly SinkOptions _options;
    private readonly ISinkLog _log;
    private readonly ConcurrentDictionary<string, bool> _created = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (TableName Copy, long At)> _checked = new(StringComparer.Ordinal);

    /// <summary>How long the target's schema hash is trusted before it is read again (a unit's halving sends many requests).</summary>
    public static readonly TimeSpan SchemaCheckInterval = TimeSpan.FromSeconds(5);

    public DryRunTable(IClickHouseGateway gateway, SinkOptions options, ISinkLog log)
    {
        _gateway = gateway;
        _options = options;
        _log = log;
    }

    /// <summary>The copy's name for a target whose <c>create_table_query</c> hashes to <paramref name="hash"/>.</summary>
    public static TableName NameFor(string database, TableName target, string hash)
    {
        ArgumentNullException.ThrowIfNull(target);
        var name = target.Table.Length > 100 ? target.Table[..100] : target.Table;
        return new TableName(database, $"sink_dry_run_{name}_{hash}");
    }

    /// <summary>
    /// Sends the rows (a JSONEachRow body) to the copy of <paramref name="target"/>. Returns true when every row passed,
    /// false when no copy can be made (the caller falls back); throws the engine's <see cref="ClickHouseException"/> (its
    /// message naming the target, not the copy) when a row is rejected.
    /// </summary>
    public async Task<bool> InsertAsync(TableName target, IReadOnlyList<ReadOnlyMemory<byte>> body, string token, Retrier retrier)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(retrier);
        var copy = await EnsureAsync(target, retrier);
        if (copy is null)
        {
            return false;
        }

        long bytes = 0;
        foreach (var s in body)
        {
            bytes += s.Length;
        }

        // The settings of the real insert (they shape parsing and defaults); the token only names the request.
        var settings = InsertSettings.For(_options.ExtraInsertSettings, "dry-run:" + token, bytes);
        try
        {
            await retrier.RunAsync(ct => _gateway.InsertAsync($"INSERT INTO {copy.Sql} FORMAT JSONEachRow", body, settings, ct));
            return true;
        }
        catch (ClickHouseException e) when (e.Kind == ClickHouseErrorKind.MissingTable)
        {
            // A node without the copy (an Atomic database on a cluster behind a load balancer: it was created elsewhere);
            // it is created again next time, and this unit falls back.
            _created.TryRemove(copy.Sql, out _);
            _checked.TryRemove(target.Sql, out _);
            return false;
        }
        catch (ClickHouseException e) when (e.Kind == ClickHouseErrorKind.Data)
        {
            var message = e.Message.Replace(copy.ToString(), target.ToString(), StringComparison.Ordinal) + " (found by a dry run against a Null-engine copy of the table)";
            throw new ClickHouseException(message, e.Kind, e.ServerCode, e.HttpStatus, e.RowNumber, e);
        }
    }

    /// <summary>The copy for the target's current schema, created if missing; null when the server refuses to create it.</summary>
    private async Task<TableName?> EnsureAsync(TableName target, Retrier retrier)
    {
        if (_checked.TryGetValue(target.Sql, out var recent) && Environment.TickCount64 - recent.At < (long)SchemaCheckInterval.TotalMilliseconds)
        {
            return recent.Copy;
        }

        var bytes = await retrier.RunAsync(
            ct => _gateway.QueryAsync($"SELECT create_table_query FROM system.tables WHERE database = {SqlIdentifier.Literal(target.Database)} AND name = {SqlIdentifier.Literal(target.Table)} FORMAT JSONEachRow", ct));
        string? create = null;
        foreach (var line in ((ReadOnlyMemory<byte>)bytes).Split())
        {
            using var doc = JsonDocument.Parse(line);
            create = doc.RootElement.GetProperty("create_table_query").GetString();
        }

        if (create is null)
        {
            return null;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(create)).AsSpan(0, 8));
        var copy = NameFor(_options.StateTable.Database, target, hash);
        if (_created.ContainsKey(copy.Sql))
        {
            _checked[target.Sql] = (copy, Environment.TickCount64);
            return copy;
        }

        try
        {
            await retrier.RunAsync(ct => _gateway.ExecuteAsync($"CREATE TABLE IF NOT EXISTS {copy.Sql} AS {target.Sql} ENGINE = Null", ct));
        }
        catch (ClickHouseException e) when (!e.IsRetryable)
        {
            _log.Write(
                LogLevel.Warning,
                string.Create(CultureInfo.InvariantCulture, $"cannot create the Null-engine copy {copy} used to isolate rows ClickHouse rejects without naming them (grant CREATE TABLE on {copy.Database}): {e.Message}; halving under sub-tokens instead, which a late apply can duplicate (docs/exactly-once.md, Limits)"),
                new LogFields(Table: target.ToString(), ErrorCode: e.ServerCode));
            return null;
        }

        _created[copy.Sql] = true;
        _checked[target.Sql] = (copy, Environment.TickCount64);
        return copy;
    }
}
