using MskClickHouse.Core.ClickHouse;

namespace MskClickHouse.Core.Delivery;

/// <summary>Rows still missing after a fill: a concurrent invocation spent the fill round on other rows. Retried.</summary>
internal sealed class FillIncompleteException(string topic, int partition, long first, long last, TableName table)
    : Errors.SinkException($"{topic}/{partition}: offsets {first}-{last} are still missing from {table} after filling (another invocation used the same fill round for other rows); the partition is retried")
{
    public override bool IsRetryable => true;
}
