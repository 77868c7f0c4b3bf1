namespace MskClickHouse.Core.Cdc;

/// <summary>
/// The Kafka Connect logical type of one row field, as a Debezium schema names it (JsonConverter's <c>"name"</c>,
/// the Avro converter's <c>"connect.name"</c>), with the scale a Connect Decimal carries as a parameter.
/// </summary>
public readonly record struct ConnectType(string Name, int Scale = 0)
{
    public const string DebeziumDate = "io.debezium.time.Date";
    public const string DebeziumTimestamp = "io.debezium.time.Timestamp";
    public const string DebeziumMicroTimestamp = "io.debezium.time.MicroTimestamp";
    public const string DebeziumNanoTimestamp = "io.debezium.time.NanoTimestamp";
    public const string DebeziumZonedTimestamp = "io.debezium.time.ZonedTimestamp";
    public const string DebeziumJson = "io.debezium.data.Json";
    public const string VariableScaleDecimal = "io.debezium.data.VariableScaleDecimal";
    public const string ConnectDate = "org.apache.kafka.connect.data.Date";
    public const string ConnectTimestamp = "org.apache.kafka.connect.data.Timestamp";
    public const string ConnectDecimal = "org.apache.kafka.connect.data.Decimal";

    /// <summary>Whether the mapping converts values of this type (every other name passes its value through).</summary>
    public bool IsConverted => Name is DebeziumDate or DebeziumTimestamp or DebeziumMicroTimestamp or DebeziumNanoTimestamp
        or DebeziumZonedTimestamp or DebeziumJson or VariableScaleDecimal or ConnectDate or ConnectTimestamp or ConnectDecimal;
}
