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
        WriteTableLine(metrics.Table, [("DuplicateOffsets", metrics.DuplicateOffsets), ("MissingRecords", metrics.MissingRecords)], alsoUnderServiceAlone: true);
    }
}
