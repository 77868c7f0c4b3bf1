using System.Text.Json;
using MskClickHouse.Core.ClickHouse;

namespace MskClickHouse.Core.Drift;

/// <summary>Reads a table's columns and their default kinds from <c>system.columns</c> (one small query).</summary>
public static class ColumnReader
{
    /// <returns>The columns in table order; empty when the table does not exist.</returns>
    public static async Task<IReadOnlyList<TableColumn>> ReadAsync(IClickHouseGateway gateway, TableName table, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(table);
        var sql =
            $"SELECT name, default_kind FROM system.columns WHERE database = {SqlIdentifier.Literal(table.Database)} " +
            $"AND table = {SqlIdentifier.Literal(table.Table)} ORDER BY position FORMAT JSONEachRow";
        var bytes = await gateway.QueryAsync(sql, cancellationToken);
        return Parse(bytes);
    }

    /// <summary>Parses the JSONEachRow answer of <see cref="ReadAsync"/>.</summary>
    public static IReadOnlyList<TableColumn> Parse(ReadOnlySpan<byte> jsonEachRow)
    {
        var columns = new List<TableColumn>();
        foreach (var range in jsonEachRow.Split((byte)'\n'))
        {
            var line = jsonEachRow[range];
            if (line.Trim((byte)' ').IsEmpty)
            {
                continue;
            }

            var reader = new Utf8JsonReader(line);
            string? name = null;
            var kind = string.Empty;
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1)
                {
                    continue;
                }

                var isName = reader.ValueTextEquals("name"u8);
                var isKind = reader.ValueTextEquals("default_kind"u8);
                reader.Read();
                if (isName)
                {
                    name = reader.GetString();
                }
                else if (isKind)
                {
                    kind = reader.GetString() ?? string.Empty;
                }
            }

            if (name is not null)
            {
                columns.Add(new TableColumn(name, kind));
            }
        }

        return columns;
    }
}
