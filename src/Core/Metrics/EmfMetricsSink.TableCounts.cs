using System.Text.Json;

namespace MskClickHouse.Core.Metrics;

/// <summary>
/// Per-table counts: one EMF line per call with the dimension set <c>[service, table]</c>, e.g.
/// <c>{"_aws":{..,"Dimensions":[["service","table"]],"Metrics":[{"Name":"UnknownFields","Unit":"Count"}]}]},
/// "service":..,"table":"db.t","function_request_id":..,"UnknownFields":2}</c>.
/// </summary>
public sealed partial class EmfMetricsSink
{
    public void PublishTableCount(string metricName, string table, long count)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(metricName);
        ArgumentException.ThrowIfNullOrWhiteSpace(table);
        var line = new TableLine(this, metricName, table, count, _time.GetUtcNow().ToUnixTimeMilliseconds(), _requestId);
        _output.WriteLine(in line, WriteTableLine);
    }

    private static void WriteTableLine(Utf8JsonWriter w, in TableLine line)
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
        w.WriteEndArray();
        w.WriteStartArray("Metrics");
        Definition(w, line.Metric, "Count");
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteString("service", line.Sink._service);
        w.WriteString("table", line.Table);
        if (line.RequestId is not null)
        {
            w.WriteString("function_request_id", line.RequestId);
        }

        w.WriteNumber(line.Metric, line.Count);
        w.WriteEndObject();
    }

    private readonly record struct TableLine(EmfMetricsSink Sink, string Metric, string Table, long Count, long Timestamp, string? RequestId);
}
