using System.Text.Json;
using MskClickHouse.Core.ClickHouse;

namespace MskClickHouse.Core.Audit;

/// <summary>
/// What one audit invocation checks: the last <see cref="WindowHours"/> hours, and the tables named in the payload
/// (null: every table the sink routes to). The payload is the EventBridge scheduled event, <c>{}</c>,
/// <c>{"windowHours": N}</c> and/or <c>{"tables": ["db.t", ...]}</c>; other members are ignored.
/// </summary>
public sealed record AuditRequest(int WindowHours, IReadOnlyList<TableName>? Tables)
{
    /// <summary>The largest window a payload may ask for (30 days).</summary>
    public const int MaxWindowHours = 720;

    /// <summary>Reads the payload; throws <see cref="AuditRequestException"/> naming the member that is wrong.</summary>
    public static AuditRequest Parse(ReadOnlySpan<byte> payload, int defaultWindowHours, string database)
    {
        var trimmed = payload.Trim(" \t\r\n"u8);
        if (trimmed.IsEmpty)
        {
            return new AuditRequest(defaultWindowHours, null);
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(trimmed.ToArray());
        }
        catch (JsonException e)
        {
            throw new AuditRequestException($"the audit payload is not JSON ({e.Message}): send {{}}, {{\"windowHours\": N}} or {{\"tables\": [\"db.t\"]}}");
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new AuditRequestException($"the audit payload must be a JSON object, got {root.ValueKind}");
            }

            var hours = defaultWindowHours;
            if (root.TryGetProperty("windowHours", out var w))
            {
                if (w.ValueKind != JsonValueKind.Number || !w.TryGetInt32(out hours) || hours < 1 || hours > MaxWindowHours)
                {
                    throw new AuditRequestException($"windowHours must be a whole number from 1 to {MaxWindowHours}, got {w.GetRawText()}");
                }
            }

            List<TableName>? tables = null;
            if (root.TryGetProperty("tables", out var t))
            {
                if (t.ValueKind != JsonValueKind.Array || t.GetArrayLength() == 0)
                {
                    throw new AuditRequestException($"tables must be a non-empty array of table names (\"db.t\" or \"t\"), got {t.GetRawText()}");
                }

                tables = [];
                foreach (var item in t.EnumerateArray())
                {
                    try
                    {
                        tables.Add(TableName.Parse(item.ValueKind == JsonValueKind.String ? item.GetString()! : item.GetRawText(), database));
                    }
                    catch (FormatException e)
                    {
                        throw new AuditRequestException($"tables: {e.Message}");
                    }
                }
            }

            return new AuditRequest(hours, tables);
        }
    }
}

/// <summary>An audit payload that cannot be read: the invocation fails with this message (nothing was checked).</summary>
public sealed class AuditRequestException(string message) : Errors.SinkException(message)
{
    public override bool IsRetryable => false;
}
