namespace MskClickHouse.Core.Metrics;

/// <summary>What one audit found in one table: published as one EMF line with the dimensions (service, table) and (service).</summary>
public sealed record AuditMetrics(string Table, long DuplicateOffsets, long MissingRecords);

/// <summary>Publishes the audit's findings per table.</summary>
public interface IAuditMetricsSink
{
    void Publish(AuditMetrics metrics);
}
