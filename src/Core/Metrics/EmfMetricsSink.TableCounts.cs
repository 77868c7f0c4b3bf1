using System.Text.Json;

namespace MskClickHouse.Core.Metrics;

/// <summary>
/// Per-table counts: one EMF line per call with the dimension set <c>[service, table]</c>, e.g.
/// <c>{"_aws":{..,"Dimensions":[["service","table"]],"Metrics":[{"Name":"UnknownFields","Unit":"Count"}]}]},
/// "service":..,"table":"db.t","function_request_id":..,"UnknownFields":2}</c>. The audit's line adds the set
/// <c>[service]</c> (<see cref="Publish(AuditMetrics)"/>).
/// </summary>
public sealed partial class EmfMetricsSink
{
    public void PublishTableCount(string metricName, string table, long count)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(metricName);
        ArgumentException.ThrowIfNullOrWhiteSpace(table);
        WriteTableLine(table, [(metricName, count)], alsoUnderServiceAlone: false);
    }

    /// <param name="alsoUnderServiceAlone">Also publish the values under <c>[service]</c> alone (what an alarm can name at deploy time).</param>
    private void WriteTableLine(string table, (string Name, long Value)[] counts, bool alsoUnderServiceAlone)
    {
        var line = new TableLine(this, table, counts, alsoUnderServiceAlone, _time.GetUtcNow().ToUnixTimeMilliseconds(), _requestId);
        _output.WriteLine(in line, WriteTableLine);
    }

    private static void WriteTableLine(Utf8JsonWriter w, in TableLine line)
    {
        line.Sink.OpenDirective(w, line.Timestamp, byTable: true, line.AlsoUnderServiceAlone);
        foreach (var (name, _) in line.Counts)
        {
            Definition(w, name, "Count");
        }

        line.Sink.CloseDirective(w, line.Table, line.RequestId);
        foreach (var (name, value) in line.Counts)
        {
            w.WriteNumber(name, value);
        }

        w.WriteEndObject();
    }

    private readonly record struct TableLine(EmfMetricsSink Sink, string Table, (string Name, long Value)[] Counts, bool AlsoUnderServiceAlone, long Timestamp, string? RequestId);
}
