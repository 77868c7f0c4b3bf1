namespace MskClickHouse.Simulation;

/// <summary>
/// Lays a <see cref="ChangeHistory"/> out as Kafka topic-partition logs the way Debezium produces it: one topic per
/// table, a row's changes in the partition of its key (key id modulo the partition count), offsets ascending per
/// partition in commit order, a tombstone with the key of the delete before it.
/// </summary>
public static class ChangeLog
{
    /// <param name="value">The value bytes of a change (null: a tombstone), e.g. <see cref="DebeziumJson.Value"/>.</param>
    public static Dictionary<(string Topic, int Partition), IReadOnlyList<SimRecord>> Build(ChangeHistory history, int partitions, Func<SourceChange, byte[]?> value)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(value);
        var logs = new Dictionary<(string, int), List<SimRecord>>();
        var time = 1_735_689_600_000L;
        foreach (var change in history.Changes)
        {
            var key = (change.Table, change.KeyId % partitions);
            if (!logs.TryGetValue(key, out var log))
            {
                logs[key] = log = [];
            }

            log.Add(new SimRecord(change.Table, key.Item2, log.Count, time++, DebeziumJson.Key(change), value(change), []));
        }

        return logs.ToDictionary(l => l.Key, l => (IReadOnlyList<SimRecord>)l.Value);
    }
}
