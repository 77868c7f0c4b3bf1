using System.Buffers;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Json;

namespace MskClickHouse.Core.Delivery;

/// <summary>A record that will not reach its table, with the reason.</summary>
public readonly record struct DeadLetter(int RecordIndex, string Reason);

/// <summary>What a dead-letter row names the record by: sink, source cluster, topic, partition, offset.</summary>
public sealed record DeadLetterIdentity(string SinkId, string Source, string Topic, int Partition, long Offset);

/// <summary>The dead-letter table: its DDL and the JSONEachRow rows the sink writes to it.</summary>
public static class DeadLetters
{
    public static string CreateTableSql(TableName table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return $"""
            CREATE TABLE IF NOT EXISTS {table.Sql}
            (
                sink_id LowCardinality(String),
                source LowCardinality(String),
                topic LowCardinality(String),
                partition Int32,
                offset Int64,
                timestamp DateTime64(3, 'UTC'),
                key Nullable(String),
                value Nullable(String),
                headers Map(String, String),
                target_table String,
                error String,
                failed_at DateTime64(3, 'UTC'),
                timestamp_type LowCardinality(String) DEFAULT '',
                undecodable UInt8 DEFAULT 0,
                generation UInt32 DEFAULT 0,
                replayed_at Nullable(DateTime64(3, 'UTC')),
                replay_error String DEFAULT ''
            )
            ENGINE = MergeTree
            ORDER BY (topic, partition, offset)
            SETTINGS non_replicated_deduplication_window = 1000
            """;
    }

    /// <summary>
    /// The columns later versions added, with their definitions; a table of an earlier version reads their defaults
    /// for its old rows. <c>timestamp_type</c> and <c>undecodable</c> let a replay rebuild the record exactly;
    /// <c>generation</c>, <c>replayed_at</c> and <c>replay_error</c> are the replay's marks (docs/operations.md, "Replay").
    /// </summary>
    public static IReadOnlyList<(string Name, string Definition)> AddedColumns { get; } =
    [
        ("source", "LowCardinality(String) AFTER sink_id"),
        ("timestamp_type", "LowCardinality(String) DEFAULT ''"),
        ("undecodable", "UInt8 DEFAULT 0"),
        ("generation", "UInt32 DEFAULT 0"),
        ("replayed_at", "Nullable(DateTime64(3, 'UTC'))"),
        ("replay_error", "String DEFAULT ''"),
    ];

    /// <summary>
    /// Adds the columns of later versions to a dead-letter table created by an earlier one, in one ALTER: adding a
    /// column with a default is a metadata change (no part is rewritten), and IF NOT EXISTS makes it idempotent when
    /// two cold starts race.
    /// </summary>
    public static string MigrateSql(TableName table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return $"ALTER TABLE {table.Sql} " + string.Join(", ", AddedColumns.Select(c => $"ADD COLUMN IF NOT EXISTS {c.Name} {c.Definition}"));
    }

    /// <summary>How many of <see cref="AddedColumns"/> the table has (TSV count); fewer means <see cref="MigrateSql"/> is due.</summary>
    public static string CountAddedColumnsSql(TableName table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return $"SELECT count() FROM system.columns WHERE database = {SqlIdentifier.Literal(table.Database)} AND table = {SqlIdentifier.Literal(table.Table)} " +
            $"AND name IN ({string.Join(", ", AddedColumns.Select(c => SqlIdentifier.Literal(c.Name)))}) FORMAT TSV";
    }

    /// <summary>The Kafka name of a timestamp type, as the event carries it and the dead-letter row keeps it.</summary>
    public static string TimestampTypeName(TimestampType type) => type switch
    {
        TimestampType.CreateTime => "CREATE_TIME",
        TimestampType.LogAppendTime => "LOG_APPEND_TIME",
        _ => "NO_TIMESTAMP_TYPE",
    };

    /// <summary>
    /// Opens a dead-letter row with what identifies the record (<c>{"sink_id":…,"timestamp_type":…</c>); the caller
    /// writes the rest and closes it. The sink's dead letters and the replay's outcome rows share it.
    /// </summary>
    public static void WriteIdentity(IBufferWriter<byte> output, string sinkId, string source, string topic, int partition, long offset, long timestampMs, string timestampType)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.Write("{\"sink_id\":"u8);
        JsonText.WriteString(output, sinkId);
        output.Write(",\"source\":"u8);
        JsonText.WriteString(output, source);
        output.Write(",\"topic\":"u8);
        JsonText.WriteString(output, topic);
        output.Write(",\"partition\":"u8);
        JsonText.WriteNumber(output, partition);
        output.Write(",\"offset\":"u8);
        JsonText.WriteNumber(output, offset);
        output.Write(",\"timestamp\":"u8);
        JsonText.WriteTimestamp(output, timestampMs);
        output.Write(",\"timestamp_type\":"u8);
        JsonText.WriteString(output, timestampType);
    }

    /// <summary>Writes one dead-letter row per record: everything that arrived, so nothing is lost.</summary>
    public static void Encode(
        IBufferWriter<byte> output,
        KafkaBatch batch,
        PartitionRecords partition,
        IEnumerable<DeadLetter> letters,
        string sinkId,
        string source,
        TableName target,
        DateTimeOffset failedAt)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(partition);
        ArgumentNullException.ThrowIfNull(letters);
        ArgumentNullException.ThrowIfNull(target);
        foreach (var letter in letters)
        {
            WriteRow(output, batch, in partition.Records[letter.RecordIndex], new DeadLetterIdentity(sinkId, source, partition.Topic, partition.Partition, partition.Records[letter.RecordIndex].Offset), target.ToString(), letter.Reason, failedAt);
        }
    }

    /// <summary>
    /// Writes one dead-letter row: the record as it arrived under <paramref name="identity"/>, the table it was meant
    /// for and the reason. A record with an <see cref="KafkaRecord.Error"/> is marked undecodable.
    /// </summary>
    public static void WriteRow(IBufferWriter<byte> output, KafkaBatch batch, in KafkaRecord r, DeadLetterIdentity identity, string target, string reason, DateTimeOffset failedAt)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(identity);
        WriteIdentity(output, identity.SinkId, identity.Source, identity.Topic, identity.Partition, identity.Offset, r.TimestampMs, TimestampTypeName(r.TimestampType));
        if (r.Error is not null)
        {
            // The value holds the record's JSON text as it arrived, not a Kafka value: nothing a replay can insert.
            output.Write(",\"undecodable\":1"u8);
        }

        output.Write(",\"key\":"u8);
        WriteNullable(output, batch, r.Key);
        output.Write(",\"value\":"u8);
        WriteNullable(output, batch, r.Value);
        output.Write(",\"headers\":{"u8);
        var first = true;
        foreach (var h in batch.HeadersOf(r))
        {
            if (!first)
            {
                output.Write(","u8);
            }

            first = false;
            JsonText.WriteString(output, batch.Bytes(h.Name));
            output.Write(":"u8);
            JsonText.WriteString(output, h.Value.IsNull ? default : batch.Bytes(h.Value));
        }

        output.Write("},\"target_table\":"u8);
        JsonText.WriteString(output, target);
        output.Write(",\"error\":"u8);
        JsonText.WriteString(output, reason);
        output.Write(",\"failed_at\":"u8);
        JsonText.WriteTimestamp(output, failedAt.ToUnixTimeMilliseconds());
        output.Write("}\n"u8);
    }

    private static void WriteNullable(IBufferWriter<byte> output, KafkaBatch batch, ByteRange range)
    {
        if (range.IsNull)
        {
            output.Write("null"u8);
        }
        else
        {
            JsonText.WriteString(output, batch.Bytes(range));
        }
    }
}
