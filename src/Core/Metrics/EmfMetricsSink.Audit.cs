using System.Text.Json;

namespace MskClickHouse.Core.Metrics;

/// <summary>
/// The audit's line: <c>DuplicateOffsets</c> and <c>MissingRecords</c> under two dimension sets, (service, table) to
/// see which table and (service) for the template's alarms (an alarm needs every dimension value at deploy time; the
/// tables are not known then). Each table's line adds its values to the (service) series, so its Sum is the total.
/// </summary>
public sealed partial class EmfMetricsSink : IAuditMetricsSink
{
    public void Publish(AuditMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var line = new AuditLine(this, metrics, _time.GetUtcNow().ToUnixTimeMilliseconds(), _requestId);
        _output.WriteLine(in line, WriteAuditLine);
    }

    private static void WriteAuditLine(Utf8JsonWriter w, in AuditLine line)
    {
        w.WriteStartObject();
        w.WriteStartObject("_aws");
        w.WriteNumber("Timestamp", line.Timestamp);
        w.WriteStartArray("CloudWatchMetrics");
        w.WriteStartObject();
        w.WriteString("Namespace", line.Sink._namespace);
        w.WriteStartArray("Dimensions");
        w.WriteStartArray();
        w.WriteStringValue("service");
        w.WriteStringValue("table");
        w.WriteEndArray();
        w.WriteStartArray();
        w.WriteStringValue("service");
        w.WriteEndArray();
        w.WriteEndArray();
        w.WriteStartArray("Metrics");
        Definition(w, "DuplicateOffsets", "Count");
        Definition(w, "MissingRecords", "Count");
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteString("service", line.Sink._service);
        w.WriteString("table", line.Metrics.Table);
        if (line.RequestId is not null)
        {
            w.WriteString("function_request_id", line.RequestId);
        }

        w.WriteNumber("DuplicateOffsets", line.Metrics.DuplicateOffsets);
        w.WriteNumber("MissingRecords", line.Metrics.MissingRecords);
        w.WriteEndObject();
    }

    private readonly record struct AuditLine(EmfMetricsSink Sink, AuditMetrics Metrics, long Timestamp, string? RequestId);
}
