using System.Globalization;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Delivery.State;

namespace MskClickHouse.Core.Replay;

/// <summary>
/// The SQL of a replay against the dead-letter table and the target table. Pure. A dead letter is <b>pending</b> when
/// no outcome row (<c>replayed_at IS NOT NULL</c>) exists for its identity and generation; it is <b>replayable</b>
/// unless the event decoder could not read it as it arrived (<c>undecodable</c>, or for rows of earlier versions a
/// decoder reason): its value then holds the record's JSON text, not a Kafka value.
/// </summary>
public static class DeadLetterQueries
{
    /// <summary>The decoder's own reasons (KafkaEventDecoder), for rows written before the undecodable column existed.</summary>
    public const string DecoderReasonPattern = "^(field '[^']*' is |record has no '|a header value byte )";

    /// <summary>Pending, replayable dead letters of the table, oldest identity first, one row per identity.</summary>
    public static string SelectPending(TableName deadLetters, string sinkId, ReplayRequest request)
    {
        ArgumentNullException.ThrowIfNull(deadLetters);
        ArgumentNullException.ThrowIfNull(request);
        // Aliases never reuse a column's name: ClickHouse resolves a name in WHERE and ORDER BY to the alias first.
        return "SELECT source, topic, partition, toString(offset) AS offset_text, generation, toString(toUnixTimestamp64Milli(timestamp)) AS timestamp_ms, timestamp_type, " +
            "if(isNull(key), NULL, base64Encode(assumeNotNull(key))) AS key_base64, if(isNull(value), NULL, base64Encode(assumeNotNull(value))) AS value_base64, " +
            "arrayMap(k -> base64Encode(k), mapKeys(headers)) AS header_names, arrayMap(v -> base64Encode(v), mapValues(headers)) AS header_values, " +
            "base64Encode(error) AS error_base64 " +
            $"FROM {deadLetters.Sql} WHERE {Scope(sinkId, request)} AND replayed_at IS NULL AND {Replayable} " +
            $"AND (source, topic, partition, offset, generation) NOT IN ({Outcomes(deadLetters, sinkId, request.Table)}) " +
            "ORDER BY source, topic, partition, offset, generation LIMIT 1 BY source, topic, partition, offset " +
            string.Create(CultureInfo.InvariantCulture, $"LIMIT {request.Limit} ") +
            $"SETTINGS {ClickHouseStateStore.SequentialConsistency}, output_format_json_quote_64bit_integers = 1 FORMAT JSONEachRow";
    }

    /// <summary>
    /// TSV: dead letters of the table (matching the filter) that an earlier replay already landed; pending ones no
    /// replay can insert (they did not decode as they arrived); and up to 10 other sink ids with dead letters for the
    /// table, comma-separated (a replay function whose SINK_ID differs from the sink's finds nothing of its own).
    /// </summary>
    public static string CountDone(TableName deadLetters, string sinkId, ReplayRequest request)
    {
        ArgumentNullException.ThrowIfNull(deadLetters);
        ArgumentNullException.ThrowIfNull(request);
        var own = $"sink_id = {SqlIdentifier.Literal(sinkId)}";
        var filter = request.ErrorContains is { } text ? $" AND position(error, {SqlIdentifier.Literal(text)}) > 0" : string.Empty;
        return $"SELECT uniqExactIf((source, topic, partition, offset), {own} AND replayed_at IS NOT NULL AND replay_error = ''), " +
            $"uniqExactIf((source, topic, partition, offset), {own} AND replayed_at IS NULL AND NOT {Replayable}), " +
            $"arrayStringConcat(arraySort(groupUniqArrayIf(10)(sink_id, NOT ({own}))), ',') " +
            $"FROM {deadLetters.Sql} WHERE target_table = {SqlIdentifier.Literal(request.Table.ToString())}{filter} SETTINGS {ClickHouseStateStore.SequentialConsistency} FORMAT TSV";
    }

    private static string Replayable => $"(undecodable = 0 AND NOT match(error, {SqlIdentifier.Literal(DecoderReasonPattern)}))";

    private static string Scope(string sinkId, ReplayRequest request)
    {
        var scope = $"sink_id = {SqlIdentifier.Literal(sinkId)} AND target_table = {SqlIdentifier.Literal(request.Table.ToString())}";
        return request.ErrorContains is { } text ? $"{scope} AND position(error, {SqlIdentifier.Literal(text)}) > 0" : scope;
    }

    private static string Outcomes(TableName deadLetters, string sinkId, TableName table) =>
        $"SELECT source, topic, partition, offset, generation FROM {deadLetters.Sql} WHERE sink_id = {SqlIdentifier.Literal(sinkId)} " +
        $"AND target_table = {SqlIdentifier.Literal(table.ToString())} AND replayed_at IS NOT NULL";
}
