using System.Collections.Frozen;
using System.Globalization;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Errors;
using MskClickHouse.Core.Logging;

namespace MskClickHouse.Core.Configuration;

/// <summary>
/// Parses <see cref="SinkOptions"/> from environment variables. Pure: the environment is passed in.
/// Every error is a <see cref="ConfigurationException"/> naming the variable and what it expected.
/// </summary>
public static class SinkOptionsParser
{
    /// <summary>Settings the sink pins itself; CLICKHOUSE_SETTINGS may not override them.</summary>
    public static readonly FrozenSet<string> PinnedSettings = new[]
    {
        "insert_deduplication_token", "insert_deduplicate", "async_insert", "date_time_input_format",
        "max_insert_block_size", "min_insert_block_size_rows", "min_insert_block_size_bytes", "input_format_allow_errors_num",
        "input_format_allow_errors_ratio", "deduplicate_blocks_in_dependent_materialized_views",
        "throw_on_max_partitions_per_insert_block", "wait_for_async_insert", "async_insert_deduplicate", "deduplicate_insert",
    }.ToFrozenSet(StringComparer.Ordinal);

    public static SinkOptions Parse(IReadOnlyDictionary<string, string?> env)
    {
        ArgumentNullException.ThrowIfNull(env);
        string? Get(string name) => env.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;

        var database = Get("CLICKHOUSE_DATABASE") ?? SinkOptionTable.Default("CLICKHOUSE_DATABASE");
        var password = env.TryGetValue("CLICKHOUSE_PASSWORD", out var pw) && !string.IsNullOrEmpty(pw) ? pw : null;
        var secretArn = Get("CLICKHOUSE_PASSWORD_SECRET_ARN");
        if (password is not null && secretArn is not null)
        {
            throw new ConfigurationException("CLICKHOUSE_PASSWORD_SECRET_ARN", "set either CLICKHOUSE_PASSWORD or CLICKHOUSE_PASSWORD_SECRET_ARN, not both");
        }

        if (secretArn is not null && !secretArn.StartsWith("arn:", StringComparison.Ordinal))
        {
            throw new ConfigurationException("CLICKHOUSE_PASSWORD_SECRET_ARN", $"expected a Secrets Manager ARN (arn:aws:secretsmanager:region:account:secret:name), got '{secretArn}'");
        }

        var sinkId = Get("SINK_ID") ?? Get("AWS_LAMBDA_FUNCTION_NAME")
            ?? throw new ConfigurationException("SINK_ID", "missing: set SINK_ID (it defaults to AWS_LAMBDA_FUNCTION_NAME, which is not set either)");
        if (sinkId.Length > 128 || !sinkId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new ConfigurationException("SINK_ID", $"expected 1-128 characters of letters, digits, '-', '_' or '.', got '{sinkId}'");
        }

        var (defaultFormat, topicFormats) = ParseValueFormats(Get("VALUE_FORMAT"));
        var (changeEvents, changeEventTopics) = ParseChangeEvents(Get("CDC_FORMAT"), Get("CDC_TOPICS"), defaultFormat, topicFormats);
        var topicTables = ParseTopicTables(Get("TOPIC_TABLES"), database);
        var deadLetterTable = ParseTable("DEAD_LETTER_TABLE", Get("DEAD_LETTER_TABLE") ?? SinkOptionTable.Default("DEAD_LETTER_TABLE"), database);
        var stateTable = ParseTable("STATE_TABLE", Get("STATE_TABLE") ?? SinkOptionTable.Default("STATE_TABLE"), database);
        var routes = RoutesParser.Parse(Get("ROUTES"), database);
        routes.AddRange(topicTables.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new RouteRule(p.Key, p.Value, null, -1)));
        CheckRoutes(routes, new TableGuard(stateTable, deadLetterTable), topic => topicFormats.GetValueOrDefault(topic, defaultFormat));

        return new SinkOptions
        {
            ClickHouseUrl = ParseUrl(Get("CLICKHOUSE_URL"), ParseBool("CLICKHOUSE_ALLOW_HTTP", Get("CLICKHOUSE_ALLOW_HTTP"), false)),
            User = Get("CLICKHOUSE_USER") ?? SinkOptionTable.Default("CLICKHOUSE_USER"),
            Password = password,
            PasswordSecretArn = secretArn,
            Database = database,
            CaFile = ParseCaFile(Get("CLICKHOUSE_CA_FILE")),
            TopicTables = topicTables,
            Routes = routes,
            Unrouted = ParseUnrouted(Get("UNROUTED")),
            DefaultValueFormat = defaultFormat,
            TopicValueFormats = topicFormats,
            ChangeEvents = changeEvents,
            ChangeEventTopics = changeEventTopics,
            SchemaRegistry = SchemaRegistryOptions.Parse(Get),
            StringColumn = Get("STRING_VALUE_COLUMN") ?? SinkOptionTable.Default("STRING_VALUE_COLUMN"),
            Tombstones = ParseTombstones(Get("TOMBSTONES")),
            DeadLetterTable = deadLetterTable,
            StateTable = stateTable,
            SinkId = sinkId,
            ExtraInsertSettings = ParseSettings(Get("CLICKHOUSE_SETTINGS")),
            StrictOffsets = ParseBool("STRICT_OFFSETS", Get("STRICT_OFFSETS"), false),
            InsertMode = ParseInsertMode(Get("INSERT_MODE")),
            InsertParallelism = ParseInt(SinkOptionTable.Of("INSERT_PARALLELISM"), Get),
            DeadlineSafetyMargin = TimeSpan.FromMilliseconds(ParseInt(SinkOptionTable.Of("DEADLINE_SAFETY_MARGIN_MS"), Get)),
            RequestTimeout = TimeSpan.FromMilliseconds(ParseInt(SinkOptionTable.Of("CLICKHOUSE_TIMEOUT_MS"), Get)),
            UnknownFieldsSample = ParseInt(SinkOptionTable.Of("UNKNOWN_FIELDS_SAMPLE"), Get),
            SchemaEvolution = ParseSchemaEvolution(Get("SCHEMA_EVOLUTION")),
            AutoCreateTables = ParseBool("AUTO_CREATE_TABLES", Get("AUTO_CREATE_TABLES"), false),
            Compression = ParseCompression(Get("CLICKHOUSE_COMPRESSION")),
            PollerMode = ParsePollerMode(Get("POLLER_MODE")),
            DefaultRoute = ParseDefaultRoute(Get("DEFAULT_ROUTE")),
            Mode = ParseMode(Get("SINK_MODE")),
            ServiceName = Get("POWERTOOLS_SERVICE_NAME") ?? SinkOptionTable.Default("POWERTOOLS_SERVICE_NAME"),
            LogLevel = ParseLogLevel(env),
            MetricsNamespace = Get("POWERTOOLS_METRICS_NAMESPACE") ?? SinkOptionTable.Default("POWERTOOLS_METRICS_NAMESPACE"),
            AuditWindowHours = ParseInt(SinkOptionTable.Of("AUDIT_WINDOW_HOURS"), Get),
        };
    }

    /// <summary>Reads the process environment into a dictionary and parses it.</summary>
    public static SinkOptions FromEnvironment() => Parse(EnvironmentSnapshot());

    /// <summary>The process environment, read once into a dictionary (the parser and the logger take it as data).</summary>
    public static Dictionary<string, string?> EnvironmentSnapshot()
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            env[(string)e.Key] = e.Value as string;
        }

        return env;
    }

    /// <summary>
    /// CLICKHOUSE_URL: an absolute https:// URL (http:// only with CLICKHOUSE_ALLOW_HTTP=true), without credentials
    /// (user info or a password/user parameter are refused) and without a query string (the driver would ignore it).
    /// The value is never echoed: it may hold a password.
    /// </summary>
    private static Uri ParseUrl(string? value, bool allowHttp)
    {
        if (value is null)
        {
            throw new ConfigurationException("CLICKHOUSE_URL", "missing: expected the ClickHouse HTTPS endpoint, e.g. https://abc123.eu-west-1.aws.clickhouse.cloud:8443");
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ConfigurationException("CLICKHOUSE_URL", "expected an absolute https:// URL such as https://abc123.eu-west-1.aws.clickhouse.cloud:8443 (the value is not repeated here because it may carry credentials)");
        }

        var shown = Redact(uri);
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            throw new ConfigurationException("CLICKHOUSE_URL", $"{shown} must not carry credentials (user info before '@'): put the user in CLICKHOUSE_USER and the password in the secret CLICKHOUSE_PASSWORD_SECRET_ARN");
        }

        if (uri.Query.Length > 1 || uri.Fragment.Length > 1)
        {
            var names = uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => Uri.UnescapeDataString(p.Split('=')[0]).ToUpperInvariant());
            throw new ConfigurationException(
                "CLICKHOUSE_URL",
                names.Any(n => n is "PASSWORD" or "USER" or "KEY" or "QUOTA_KEY")
                    ? $"{shown} must not carry credentials in its query string: put the user in CLICKHOUSE_USER and the password in the secret CLICKHOUSE_PASSWORD_SECRET_ARN"
                    : $"{shown} must not have a query string or fragment: the sink does not pass URL parameters on (use CLICKHOUSE_DATABASE, CLICKHOUSE_SETTINGS)");
        }

        if (uri.Scheme == Uri.UriSchemeHttp && !allowHttp)
        {
            throw new ConfigurationException("CLICKHOUSE_URL", $"{shown} is plain http://, which sends the password and the data unencrypted: use https://, or set CLICKHOUSE_ALLOW_HTTP=true for a local or private endpoint");
        }

        return uri;
    }

    /// <summary>A URL as it may be printed: scheme, host, port and path; never user info, query or fragment.</summary>
    public static string Redact(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return url.IsAbsoluteUri ? url.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped) : "(relative URL)";
    }

    private static string? ParseCaFile(string? value)
    {
        if (value is not null && !File.Exists(value))
        {
            throw new ConfigurationException("CLICKHOUSE_CA_FILE", $"file '{value}' does not exist (expected a PEM bundle of CA certificates)");
        }

        return value;
    }

    private static FrozenDictionary<string, TableName> ParseTopicTables(string? value, string database)
    {
        var map = new Dictionary<string, TableName>(StringComparer.Ordinal);
        foreach (var (topic, table) in Pairs("TOPIC_TABLES", value, "topic=table or topic=database.table"))
        {
            if (!map.TryAdd(topic, ParseTable("TOPIC_TABLES", table, database)))
            {
                throw new ConfigurationException("TOPIC_TABLES", $"topic '{topic}' is listed twice");
            }
        }

        return map.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>
    /// What no single rule can show: a rule repeated (same topic, table and condition), a table the guard refuses, a
    /// field condition on a topic whose values are read as text (VALUE_FORMAT string). Errors name the rule.
    /// </summary>
    private static void CheckRoutes(List<RouteRule> routes, TableGuard guard, Func<string, ValueFormat> formatOf)
    {
        var seen = new Dictionary<(string Topic, TableName Table, string? Where), RouteRule>();
        foreach (var rule in routes)
        {
            var variable = rule.Index >= 0 ? "ROUTES" : "TOPIC_TABLES";
            if (guard.Refusal(rule.Table) is { } refusal)
            {
                throw new ConfigurationException(variable, $"{rule.Origin} (topic '{rule.Topic}'): {refusal}");
            }

            if (rule.Where is FieldEquals field && formatOf(rule.Topic) == ValueFormat.String)
            {
                throw new ConfigurationException(variable, $"{rule.Origin} routes topic '{rule.Topic}' by field '{field.Name}', but VALUE_FORMAT reads that topic's values as string (no fields): route it by header or key, or read it as json, avro, protobuf or json-schema");
            }

            if (!seen.TryAdd((rule.Topic, rule.Table, rule.Where?.ToString()), rule))
            {
                throw new ConfigurationException(variable, $"{rule.Origin} repeats {seen[(rule.Topic, rule.Table, rule.Where?.ToString())].Origin} (topic '{rule.Topic}' to table {rule.Table}{(rule.Where is null ? string.Empty : ", " + rule.Where)}): remove one");
            }
        }
    }

    private static UnroutedPolicy ParseUnrouted(string? value) => value?.ToUpperInvariant() switch
    {
        null or "DEAD-LETTER" or "DEAD_LETTER" or "DEADLETTER" => UnroutedPolicy.DeadLetter,
        "SKIP" => UnroutedPolicy.Skip,
        _ => throw new ConfigurationException("UNROUTED", $"expected dead-letter or skip, got '{value}'"),
    };

    private static (ValueFormat Default, FrozenDictionary<string, ValueFormat> PerTopic) ParseValueFormats(string? value)
    {
        var defaultFormat = ValueFormat.Json;
        var perTopic = new Dictionary<string, ValueFormat>(StringComparer.Ordinal);
        if (value is null)
        {
            return (defaultFormat, perTopic.ToFrozenDictionary(StringComparer.Ordinal));
        }

        foreach (var item in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = item.LastIndexOf('=');
            if (eq < 0)
            {
                defaultFormat = ParseFormat(item);
            }
            else
            {
                var topic = item[..eq].Trim();
                if (topic.Length == 0)
                {
                    throw new ConfigurationException("VALUE_FORMAT", $"'{item}' has an empty topic name");
                }

                perTopic[topic] = ParseFormat(item[(eq + 1)..].Trim());
            }
        }

        return (defaultFormat, perTopic.ToFrozenDictionary(StringComparer.Ordinal));

        static ValueFormat ParseFormat(string f) => f.ToUpperInvariant() switch
        {
            "JSON" => ValueFormat.Json,
            "STRING" => ValueFormat.String,
            "AVRO" => ValueFormat.Avro,
            "PROTOBUF" => ValueFormat.Protobuf,
            "JSON-SCHEMA" or "JSON_SCHEMA" or "JSONSCHEMA" => ValueFormat.JsonSchema,
            _ => throw new ConfigurationException("VALUE_FORMAT", $"unknown format '{f}': expected json, string, avro, protobuf or json-schema, or topic=format pairs separated by commas"),
        };
    }

    /// <summary>
    /// CDC_FORMAT none or debezium; CDC_TOPICS a comma list of topics (empty: every routed topic), only with a format.
    /// A change event is a JSON object (json, or decoded from a registry format), never a string column's text.
    /// </summary>
    private static (ChangeEventFormat Format, FrozenSet<string> Topics) ParseChangeEvents(string? format, string? topics, ValueFormat defaultFormat, FrozenDictionary<string, ValueFormat> topicFormats)
    {
        var parsed = format?.ToUpperInvariant() switch
        {
            null or "NONE" => ChangeEventFormat.None,
            "DEBEZIUM" => ChangeEventFormat.Debezium,
            _ => throw new ConfigurationException("CDC_FORMAT", $"expected none or debezium, got '{format}'"),
        };
        var list = (topics ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToFrozenSet(StringComparer.Ordinal);
        if (parsed == ChangeEventFormat.None)
        {
            return list.Count == 0
                ? (parsed, list)
                : throw new ConfigurationException("CDC_TOPICS", "lists topics but CDC_FORMAT is none: set CDC_FORMAT=debezium, or leave CDC_TOPICS empty");
        }

        var stringTopic = list.Count == 0
            ? (defaultFormat == ValueFormat.String ? "(every topic: the default VALUE_FORMAT)" : topicFormats.FirstOrDefault(t => t.Value == ValueFormat.String).Key)
            : list.FirstOrDefault(t => topicFormats.GetValueOrDefault(t, defaultFormat) == ValueFormat.String);
        if (stringTopic is not null)
        {
            throw new ConfigurationException("CDC_FORMAT", $"change events are JSON objects, but VALUE_FORMAT is string for {stringTopic}: use json (or a registry format) for change-event topics, or name the others in CDC_TOPICS");
        }

        return (parsed, list);
    }

    private static TableName ParseTable(string variable, string text, string database)
    {
        try
        {
            return TableName.Parse(text, database);
        }
        catch (FormatException e)
        {
            throw new ConfigurationException(variable, e.Message);
        }
    }

    private static TombstonePolicy ParseTombstones(string? value) => value?.ToUpperInvariant() switch
    {
        null or "SKIP" => TombstonePolicy.Skip,
        "DEAD-LETTER" or "DEAD_LETTER" or "DEADLETTER" => TombstonePolicy.DeadLetter,
        _ => throw new ConfigurationException("TOMBSTONES", $"expected skip or dead-letter, got '{value}'"),
    };

    private static SchemaEvolutionMode ParseSchemaEvolution(string? value) => value?.ToLowerInvariant() switch
    {
        null or "off" => SchemaEvolutionMode.Off,
        "add-columns" => SchemaEvolutionMode.AddColumns,
        _ => throw new ConfigurationException("SCHEMA_EVOLUTION", $"expected off or add-columns, got '{value}'"),
    };

    private static RequestCompression ParseCompression(string? value) => value?.ToUpperInvariant() switch
    {
        null or "NONE" => RequestCompression.None,
        "GZIP" => RequestCompression.Gzip,
        "ZSTD" => RequestCompression.Zstd,
        _ => throw new ConfigurationException("CLICKHOUSE_COMPRESSION", $"expected none, gzip or zstd, got '{value}'"),
    };

    private static SinkMode ParseMode(string? value) => value?.ToLowerInvariant() switch
    {
        null or "" or "sink" => SinkMode.Sink,
        "audit" => SinkMode.Audit,
        "replay" => SinkMode.Replay,
        _ => throw new ConfigurationException("SINK_MODE", $"expected sink, audit or replay, got '{value}'"),
    };

    private static DefaultRoute ParseDefaultRoute(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "topic" => DefaultRoute.Topic,
        "none" => DefaultRoute.None,
        _ => throw new ConfigurationException("DEFAULT_ROUTE", $"expected topic or none, got '{value}'"),
    };

    private static InsertMode ParseInsertMode(string? value) => value?.ToLowerInvariant() switch
    {
        null or "sync" => InsertMode.Sync,
        "async" => InsertMode.Async,
        _ => throw new ConfigurationException("INSERT_MODE", $"expected sync or async, got '{value}'"),
    };

    private static PollerMode ParsePollerMode(string? value) => value?.ToUpperInvariant() switch
    {
        null or "PROVISIONED" => PollerMode.Provisioned,
        "ON_DEMAND" => PollerMode.OnDemand,
        _ => throw new ConfigurationException("POLLER_MODE", $"expected PROVISIONED or ON_DEMAND (the template's PollerMode), got '{value}'"),
    };

    private static FrozenDictionary<string, string> ParseSettings(string? value)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, setting) in Pairs("CLICKHOUSE_SETTINGS", value, "setting=value"))
        {
            if (!key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                throw new ConfigurationException("CLICKHOUSE_SETTINGS", $"'{key}' is not a setting name");
            }

            if (PinnedSettings.Contains(key))
            {
                throw new ConfigurationException("CLICKHOUSE_SETTINGS", $"'{key}' is pinned by the sink for exactly-once delivery and cannot be overridden");
            }

            settings[key] = setting;
        }

        return settings.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static IEnumerable<(string Key, string Value)> Pairs(string variable, string? value, string expected)
    {
        if (value is null)
        {
            yield break;
        }

        foreach (var item in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == item.Length - 1)
            {
                throw new ConfigurationException(variable, $"'{item}' is not {expected}; separate pairs with commas");
            }

            yield return (item[..eq].Trim(), item[(eq + 1)..].Trim());
        }
    }

    private static bool ParseBool(string variable, string? value, bool fallback) => value?.ToUpperInvariant() switch
    {
        null => fallback,
        "TRUE" or "1" or "YES" => true,
        "FALSE" or "0" or "NO" => false,
        _ => throw new ConfigurationException(variable, $"expected true or false, got '{value}'"),
    };

    private static int ParseInt(SinkOption option, Func<string, string?> get) =>
        ParseInt(option.Name, get(option.Name), SinkOptionTable.IntDefault(option.Name), option.Min, option.Max);

    private static int ParseInt(string variable, string? value, int fallback, int min, int max)
    {
        if (value is null)
        {
            return fallback;
        }

        if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n < min || n > max)
        {
            throw new ConfigurationException(variable, $"expected a whole number from {min} to {max}, got '{value}'");
        }

        return n;
    }

    private static LogLevel ParseLogLevel(IReadOnlyDictionary<string, string?> env)
    {
        // Lambda's own advanced logging control wins over Powertools' variable, as in Powertools.
        foreach (var variable in new[] { "AWS_LAMBDA_LOG_LEVEL", "POWERTOOLS_LOG_LEVEL" })
        {
            if (env.TryGetValue(variable, out var value) && !string.IsNullOrWhiteSpace(value))
            {
                return value.Trim().ToUpperInvariant() switch
                {
                    "TRACE" => LogLevel.Trace,
                    "DEBUG" => LogLevel.Debug,
                    "INFO" or "INFORMATION" => LogLevel.Information,
                    "WARN" or "WARNING" => LogLevel.Warning,
                    "ERROR" => LogLevel.Error,
                    "FATAL" or "CRITICAL" => LogLevel.Critical,
                    _ => throw new ConfigurationException(variable, $"expected TRACE, DEBUG, INFO, WARN, ERROR or FATAL, got '{value}'"),
                };
            }
        }

        return LogLevel.Information;
    }
}
