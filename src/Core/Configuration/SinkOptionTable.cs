namespace MskClickHouse.Core.Configuration;

/// <summary>Whether template.yaml sets an option in the function's environment.</summary>
public enum TemplateUse
{
    /// <summary>The template sets it (from a parameter, or only when its parameter is given).</summary>
    Set,

    /// <summary>Left unset on purpose; <see cref="SinkOption.Doc"/> says why.</summary>
    NotSet,

    /// <summary>Set only on the functions of the modes in <see cref="SinkOption.Modes"/> (e.g. only the audit function, or only the sink's).</summary>
    ModeFunctions,
}

/// <summary>
/// One environment variable of the sink: its name, its default as the parser reads it (null: none), the default as
/// docs/configuration.md shows it, the range of a number, and whether the template sets it.
/// </summary>
public sealed record SinkOption(string Name, string? Default, string DocDefault, TemplateUse Template, string Doc, int Min = 0, int Max = 0)
{
    /// <summary>
    /// The functions of template.yaml that set it besides the sink function's <see cref="TemplateUse.Set"/> options,
    /// which the audit and replay functions set too (same ClickHouse, tables, sink id).
    /// </summary>
    public IReadOnlyList<SinkMode> Modes { get; init; } = [];
}

/// <summary>
/// The one list of the sink's environment variables and their defaults: <see cref="SinkOptionsParser"/> and
/// <see cref="SinkOptions"/> read defaults and ranges from here, and tests/Core.Tests/Configuration/SinkOptionTableTests
/// checks it against template.yaml's function environment and docs/configuration.md.
/// </summary>
public static class SinkOptionTable
{
    public static readonly IReadOnlyList<SinkOption> All =
    [
        new("SINK_MODE", "sink", "`sink`", TemplateUse.ModeFunctions, "set only on the audit and replay functions: `sink`, `audit` or `replay`") { Modes = [SinkMode.Audit, SinkMode.Replay] },
        new("CLICKHOUSE_URL", null, "required", TemplateUse.Set, "the ClickHouse HTTP(S) endpoint"),
        new("CLICKHOUSE_ALLOW_HTTP", "false", "`false`", TemplateUse.Set, "accept an http:// URL"),
        new("CLICKHOUSE_USER", "default", "`default`", TemplateUse.Set, "ClickHouse user"),
        new("CLICKHOUSE_PASSWORD", null, "–", TemplateUse.NotSet, "local use only: production reads the secret"),
        new("CLICKHOUSE_PASSWORD_SECRET_ARN", null, "–", TemplateUse.Set, "the password's secret"),
        new("CLICKHOUSE_DATABASE", "default", "`default`", TemplateUse.Set, "database of unqualified table names"),
        new("CLICKHOUSE_CA_FILE", null, "–", TemplateUse.NotSet, "self-hosted servers only: the binary trusts the system CA bundle"),
        new("CLICKHOUSE_SETTINGS", null, "–", TemplateUse.Set, "extra insert settings"),
        new("CLICKHOUSE_COMPRESSION", "none", "`none`", TemplateUse.Set, "insert body compression"),
        new("CLICKHOUSE_TIMEOUT_MS", "30000", "`30000`", TemplateUse.NotSet, "the default suits every deployment so far", 100, 900_000),
        new("TOPIC_TABLES", null, "–", TemplateUse.Set, "topic → table routes"),
        new("DEFAULT_ROUTE", "topic", "`topic`", TemplateUse.Set, "`topic`: a topic without a TOPIC_TABLES entry goes to the table named like it; `none`: only TOPIC_TABLES topics, others dead-lettered"),
        new("ROUTES", null, "–", TemplateUse.Set, "content routing and fan-out rules (a JSON array)"),
        new("UNROUTED", "dead-letter", "`dead-letter`", TemplateUse.Set, "records no rule matches: dead-letter or skip"),
        new("VALUE_FORMAT", "json", "`json`", TemplateUse.Set, "value format, default and per topic"),
        new("CDC_FORMAT", "none", "`none`", TemplateUse.Set, "`debezium`: values are change events"),
        new("CDC_TOPICS", null, "all routed topics", TemplateUse.Set, "topics whose values are change events"),
        new("SCHEMA_REGISTRY_URL", null, "unset", TemplateUse.Set, "Confluent-compatible registry"),
        new("SCHEMA_REGISTRY_USER", null, "unset", TemplateUse.Set, "registry basic-auth user"),
        new("SCHEMA_REGISTRY_PASSWORD_SECRET_ARN", null, "unset", TemplateUse.Set, "registry password's secret"),
        new("GLUE_ENDPOINT_URL", null, "regional", TemplateUse.NotSet, "tests and VPC endpoints only"),
        new("GLUE_REGISTRY_ARN", null, "unset", TemplateUse.Set, "the Glue registry"),
        new("STRING_VALUE_COLUMN", "value", "`value`", TemplateUse.NotSet, "the string format's column; the template deploys json by default"),
        new("TOMBSTONES", "skip", "`skip`", TemplateUse.NotSet, "skipping tombstones is the template's choice"),
        new("DEAD_LETTER_TABLE", "kafka_dead_letters", "`kafka_dead_letters`", TemplateUse.Set, "dead-letter table"),
        new("STATE_TABLE", "kafka_sink_state", "`kafka_sink_state`", TemplateUse.Set, "state table"),
        new("SINK_ID", null, "the function name", TemplateUse.Set, "names the sink in tokens and state"),
        new("POLLER_MODE", "PROVISIONED", "`PROVISIONED`", TemplateUse.Set, "the mapping's poller mode"),
        new("STRICT_OFFSETS", "false", "`false`", TemplateUse.NotSet, "re-inserting rewound offsets is the template's choice"),
        new("INSERT_MODE", "sync", "`sync`", TemplateUse.ModeFunctions, "sink function only: `sync` or `async` (server-side asynchronous inserts)") { Modes = [SinkMode.Sink] },
        new("INSERT_PARALLELISM", "4", "`4`", TemplateUse.NotSet, "the default suits the template's memory size", 1, 64),
        new("DEADLINE_SAFETY_MARGIN_MS", "3000", "`3000`", TemplateUse.NotSet, "the default suits the template's timeout", 0, 600_000),
        new("UNKNOWN_FIELDS_SAMPLE", "100", "`100`", TemplateUse.ModeFunctions, "sink function only: 1 in N records checked for fields the table lacks; 0 = off", 0, 1_000_000) { Modes = [SinkMode.Sink] },
        new("SCHEMA_EVOLUTION", "off", "`off`", TemplateUse.ModeFunctions, "sink function only: `off` or `add-columns`") { Modes = [SinkMode.Sink] },
        new("AUTO_CREATE_TABLES", "false", "`false`", TemplateUse.ModeFunctions, "sink function only: create a missing routed table") { Modes = [SinkMode.Sink] },
        new("POWERTOOLS_SERVICE_NAME", "msk-clickhouse", "`msk-clickhouse`", TemplateUse.Set, "logs' service key"),
        new("POWERTOOLS_LOG_LEVEL", "INFO", "`INFO`", TemplateUse.Set, "log level (AWS_LAMBDA_LOG_LEVEL wins)"),
        new("POWERTOOLS_METRICS_NAMESPACE", "MskClickHouse", "`MskClickHouse`", TemplateUse.Set, "EMF namespace"),
        new("AUDIT_WINDOW_HOURS", "24", "`24`", TemplateUse.ModeFunctions, "audit function only: hours of `_timestamp` the audit checks", 1, 720) { Modes = [SinkMode.Audit] },
    ];

    /// <summary>The option named <paramref name="name"/>; throws for a name not in the table.</summary>
    public static SinkOption Of(string name) =>
        All.FirstOrDefault(o => o.Name == name) ?? throw new ArgumentException($"{name} is not in SinkOptionTable", nameof(name));

    /// <summary>The default of a text option.</summary>
    public static string Default(string name) => Of(name).Default ?? throw new ArgumentException($"{name} has no default", nameof(name));

    /// <summary>The default of a number option.</summary>
    public static int IntDefault(string name) => int.Parse(Default(name), System.Globalization.CultureInfo.InvariantCulture);
}
