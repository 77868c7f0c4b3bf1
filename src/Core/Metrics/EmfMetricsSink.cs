using System.Text.Json;
using MskClickHouse.Core.Logging;

namespace MskClickHouse.Core.Metrics;

/// <summary>
/// Publishes <see cref="InvocationMetrics"/> as one CloudWatch Embedded Metric Format line per call:
/// <c>{"_aws":{"Timestamp":ms,"CloudWatchMetrics":[{"Namespace":..,"Dimensions":[["service"]],"Metrics":[{"Name":..,"Unit":..}]}]},
/// "service":..,"function_request_id":..,"RecordsReceived":n,...}</c>. Every metric named in the directive is a
/// root member; RecordLagMs is left out (from both) when the batch was empty.
/// </summary>
public sealed partial class EmfMetricsSink : IMetricsSink, IInvocationObserver
{
    private readonly JsonLineWriter _output;
    private readonly string _namespace;
    private readonly string _service;
    private readonly TimeProvider _time;
    private volatile string? _requestId;

    public EmfMetricsSink(JsonLineWriter output, string metricsNamespace, string service, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentException.ThrowIfNullOrWhiteSpace(metricsNamespace);
        ArgumentException.ThrowIfNullOrWhiteSpace(service);
        _output = output;
        _namespace = metricsNamespace;
        _service = service;
        _time = time ?? TimeProvider.System;
    }

    public void InvocationStarted(InvocationContext context, bool coldStart)
    {
        ArgumentNullException.ThrowIfNull(context);
        _requestId = context.RequestId;
    }

    public void InvocationEnded(InvocationContext context) => _requestId = null;

    public void Publish(InvocationMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var line = new Line(this, metrics, _time.GetUtcNow().ToUnixTimeMilliseconds(), _requestId);
        _output.WriteLine(in line, WriteLine);
    }

    private static void WriteLine(Utf8JsonWriter w, in Line line)
    {
        var m = line.Metrics;
        line.Sink.OpenDirective(w, line.Timestamp, byTable: false, alsoUnderServiceAlone: false);
        Definition(w, "RecordsReceived", "Count");
        Definition(w, "RowsInserted", "Count");
        Definition(w, "DeadLettered", "Count");
        Definition(w, "Replayed", "Count");
        Definition(w, "PossibleDuplicates", "Count");
        Definition(w, "TombstonesSkipped", "Count");
        Definition(w, "UnroutedSkipped", "Count");
        Definition(w, "FailedPartitions", "Count");
        Definition(w, "NonDeduplicatingTables", "Count");
        Definition(w, "RefusedPartitions", "Count");
        Definition(w, "UnidentifiedRecords", "Count");
        Definition(w, "RefusedRoutes", "Count");
        Definition(w, "QueryLimitPartitions", "Count");
        Definition(w, "InsertLatencyMs", "Milliseconds");
        if (m.RecordLagMs is not null)
        {
            Definition(w, "RecordLagMs", "Milliseconds");
        }

        Definition(w, "BatchBytes", "Bytes");
        line.Sink.CloseDirective(w, table: null, line.RequestId);
        w.WriteNumber("RecordsReceived", m.RecordsReceived);
        w.WriteNumber("RowsInserted", m.RowsInserted);
        w.WriteNumber("DeadLettered", m.DeadLettered);
        w.WriteNumber("Replayed", m.Replayed);
        w.WriteNumber("PossibleDuplicates", m.PossibleDuplicates);
        w.WriteNumber("TombstonesSkipped", m.TombstonesSkipped);
        w.WriteNumber("UnroutedSkipped", m.UnroutedSkipped);
        w.WriteNumber("FailedPartitions", m.FailedPartitions);
        w.WriteNumber("NonDeduplicatingTables", m.NonDeduplicatingTables);
        w.WriteNumber("RefusedPartitions", m.RefusedPartitions);
        w.WriteNumber("UnidentifiedRecords", m.UnidentifiedRecords);
        w.WriteNumber("RefusedRoutes", m.RefusedRoutes);
        w.WriteNumber("QueryLimitPartitions", m.QueryLimitPartitions);
        w.WriteNumber("InsertLatencyMs", Finite(m.InsertLatencyMs));
        if (m.RecordLagMs is { } lag)
        {
            w.WriteNumber("RecordLagMs", Finite(lag));
        }

        w.WriteNumber("BatchBytes", m.BatchBytes);
        w.WriteEndObject();
    }

    /// <summary>
    /// The EMF directive up to the metric definitions: <c>{"_aws":{"Timestamp":..,"CloudWatchMetrics":[{"Namespace":..,
    /// "Dimensions":[["service"]] or [["service","table"]] (and ["service"] too),"Metrics":[</c>.
    /// </summary>
    private void OpenDirective(Utf8JsonWriter w, long timestamp, bool byTable, bool alsoUnderServiceAlone)
    {
        w.WriteStartObject();
        w.WriteStartObject("_aws");
        w.WriteNumber("Timestamp", timestamp);
        w.WriteStartArray("CloudWatchMetrics");
        w.WriteStartObject();
        w.WriteString("Namespace", _namespace);
        w.WriteStartArray("Dimensions");
        w.WriteStartArray();
        w.WriteStringValue("service");
        if (byTable)
        {
            w.WriteStringValue("table");
        }

        w.WriteEndArray();
        if (byTable && alsoUnderServiceAlone)
        {
            w.WriteStartArray();
            w.WriteStringValue("service");
            w.WriteEndArray();
        }

        w.WriteEndArray();
        w.WriteStartArray("Metrics");
    }

    /// <summary>Closes what <see cref="OpenDirective"/> opened and writes the dimension values and the request id; the caller writes the metric values and closes the line.</summary>
    private void CloseDirective(Utf8JsonWriter w, string? table, string? requestId)
    {
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteString("service", _service);
        if (table is not null)
        {
            w.WriteString("table", table);
        }

        if (requestId is not null)
        {
            w.WriteString("function_request_id", requestId);
        }
    }

    private static void Definition(Utf8JsonWriter w, string name, string unit)
    {
        w.WriteStartObject();
        w.WriteString("Name", name);
        w.WriteString("Unit", unit);
        w.WriteEndObject();
    }

    /// <summary>JSON has no NaN or infinity; EMF would drop the whole line.</summary>
    private static double Finite(double value) => double.IsFinite(value) ? Math.Round(value, 3) : 0;

    private readonly record struct Line(EmfMetricsSink Sink, InvocationMetrics Metrics, long Timestamp, string? RequestId);
}
