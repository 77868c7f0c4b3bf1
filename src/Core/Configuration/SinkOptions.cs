using System.Collections.Frozen;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Logging;

namespace MskClickHouse.Core.Configuration;

/// <summary>
/// The sink's whole configuration, parsed once at start-up from environment variables
/// (see <see cref="SinkOptionsParser"/> and docs/configuration.md). Immutable.
/// </summary>
public sealed record SinkOptions
{
    /// <summary>A record prints its members; this one prints only <see cref="ToString"/>'s redacted summary.</summary>
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append(ToString());
        return true;
    }

    /// <summary>SINK_MODE: the sink, the completeness audit, or the dead-letter replay.</summary>
    public SinkMode Mode { get; init; } = SinkMode.Sink;

    public required Uri ClickHouseUrl { get; init; }

    public string User { get; init; } = SinkOptionTable.Default("CLICKHOUSE_USER");

    /// <summary>The password, from CLICKHOUSE_PASSWORD (local use) or resolved from the secret at init.</summary>
    public string? Password { get; init; }

    public string? PasswordSecretArn { get; init; }

    public string Database { get; init; } = SinkOptionTable.Default("CLICKHOUSE_DATABASE");

    public string? CaFile { get; init; }

    /// <summary>Explicit topic → table routes; topics not listed go to the table named like the topic.</summary>
    public FrozenDictionary<string, TableName> TopicTables { get; init; } = FrozenDictionary<string, TableName>.Empty;

    /// <summary>
    /// Every routing rule: the ROUTES rules in order, then each TOPIC_TABLES pair as a rule without a condition. A topic
    /// no rule names goes to the table named like it (<see cref="RouteOf"/>).
    /// </summary>
    public IReadOnlyList<RouteRule> Routes { get; init; } = [];

    /// <summary>UNROUTED: what happens to a record of a routed topic that no rule matches.</summary>
    public UnroutedPolicy Unrouted { get; init; } = UnroutedPolicy.DeadLetter;

    /// <summary>The check every routed table passes: never the sink's own tables.</summary>
    public TableGuard Guard => new(StateTable, DeadLetterTable);

    public ValueFormat DefaultValueFormat { get; init; } = ValueFormat.Json;

    public FrozenDictionary<string, ValueFormat> TopicValueFormats { get; init; } = FrozenDictionary<string, ValueFormat>.Empty;

    /// <summary>CDC_FORMAT: whether the values of <see cref="ChangeEventTopics"/> are change events (docs/cdc.md).</summary>
    public ChangeEventFormat ChangeEvents { get; init; } = ChangeEventFormat.None;

    /// <summary>CDC_TOPICS: the topics whose values are change events; empty: every routed topic.</summary>
    public FrozenSet<string> ChangeEventTopics { get; init; } = FrozenSet<string>.Empty;

    /// <summary>Schema registries for the avro, protobuf and json-schema formats (src/Core/Formats).</summary>
    public SchemaRegistryOptions SchemaRegistry { get; init; } = SchemaRegistryOptions.None;

    /// <summary>Column that receives the value for the <c>string</c> format.</summary>
    public string StringColumn { get; init; } = SinkOptionTable.Default("STRING_VALUE_COLUMN");

    public TombstonePolicy Tombstones { get; init; } = TombstonePolicy.Skip;

    public required TableName DeadLetterTable { get; init; }

    public required TableName StateTable { get; init; }

    public required string SinkId { get; init; }

    /// <summary>Extra ClickHouse settings applied to every insert (CLICKHOUSE_SETTINGS).</summary>
    public FrozenDictionary<string, string> ExtraInsertSettings { get; init; } = FrozenDictionary<string, string>.Empty;

    /// <summary>Fail instead of warn when a batch lies before the recorded range (offsets rewound).</summary>
    public bool StrictOffsets { get; init; }

    /// <summary>INSERT_MODE: synchronous inserts, or server-side asynchronous ones for the target tables that allow them.</summary>
    public InsertMode InsertMode { get; init; } = InsertMode.Sync;

    /// <summary>How many partitions are inserted at once.</summary>
    public int InsertParallelism { get; init; } = SinkOptionTable.IntDefault("INSERT_PARALLELISM");

    /// <summary>Time kept free before the invocation deadline: retries stop when less is left.</summary>
    public TimeSpan DeadlineSafetyMargin { get; init; } = TimeSpan.FromMilliseconds(SinkOptionTable.IntDefault("DEADLINE_SAFETY_MARGIN_MS"));

    /// <summary>Timeout of one ClickHouse request.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMilliseconds(SinkOptionTable.IntDefault("CLICKHOUSE_TIMEOUT_MS"));

    /// <summary>UNKNOWN_FIELDS_SAMPLE: records whose offset is a multiple of N are checked for fields the table lacks; 0: never.</summary>
    public int UnknownFieldsSample { get; init; } = SinkOptionTable.IntDefault("UNKNOWN_FIELDS_SAMPLE");

    /// <summary>SCHEMA_EVOLUTION: whether a top-level field no column receives makes the sink add the column.</summary>
    public SchemaEvolutionMode SchemaEvolution { get; init; } = SchemaEvolutionMode.Off;

    /// <summary>AUTO_CREATE_TABLES: whether a routed table that does not exist is created.</summary>
    public bool AutoCreateTables { get; init; }

    public RequestCompression Compression { get; init; } = RequestCompression.None;

    /// <summary>DEFAULT_ROUTE: whether a topic without a TOPIC_TABLES entry goes to the table named like it, or nowhere.</summary>
    public DefaultRoute DefaultRoute { get; init; } = DefaultRoute.Topic;

    /// <summary>POLLER_MODE: how undelivered partitions are answered (partial batch response, or a failed invocation).</summary>
    public PollerMode PollerMode { get; init; } = PollerMode.Provisioned;

    public string ServiceName { get; init; } = SinkOptionTable.Default("POWERTOOLS_SERVICE_NAME");

    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    public string MetricsNamespace { get; init; } = SinkOptionTable.Default("POWERTOOLS_METRICS_NAMESPACE");

    /// <summary>AUDIT_WINDOW_HOURS: how many hours of <c>_timestamp</c> the audit checks (a payload may ask for another window).</summary>
    public int AuditWindowHours { get; init; } = SinkOptionTable.IntDefault("AUDIT_WINDOW_HOURS");

    /// <summary>What the ClickHouse gateway needs to connect.</summary>
    public ClickHouseConnection Connection => new(ClickHouseUrl, User, Password, Database, CaFile, RequestTimeout, Compression);

    public TableName RouteOf(string topic) =>
        TopicTables.TryGetValue(topic, out var table) ? table : new TableName(Database, topic);

    /// <summary>True when any topic's values are schema-registry framed (avro, protobuf, json-schema).</summary>
    public bool UsesSchemaRegistry =>
        DefaultValueFormat is ValueFormat.Avro or ValueFormat.Protobuf or ValueFormat.JsonSchema
        || TopicValueFormats.Values.Any(f => f is ValueFormat.Avro or ValueFormat.Protobuf or ValueFormat.JsonSchema);

    public ValueFormat FormatOf(string topic) =>
        TopicValueFormats.TryGetValue(topic, out var format) ? format : DefaultValueFormat;

    /// <summary>The change-event format of <paramref name="topic"/>'s values (<see cref="ChangeEventFormat.None"/>: rows).</summary>
    public ChangeEventFormat ChangeEventsOf(string topic) =>
        ChangeEventTopics.Count == 0 || ChangeEventTopics.Contains(topic) ? ChangeEvents : ChangeEventFormat.None;

    /// <summary>Never print the password, nor anything of the URL but scheme, host, port and path.</summary>
    public override string ToString() =>
        $"SinkOptions {{ ClickHouseUrl = {SinkOptionsParser.Redact(ClickHouseUrl)}, User = {User}, Database = {Database}, SinkId = {SinkId}, " +
        $"DeadLetterTable = {DeadLetterTable}, StateTable = {StateTable}, Routes = {Routes.Count}, Password = {(Password is null ? "unset" : "***")} }}";
}
