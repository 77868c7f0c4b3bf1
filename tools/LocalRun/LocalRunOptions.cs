using System.Globalization;

namespace MskClickHouse.LocalRun;

/// <summary>Command-line options of the local run. Bad input is a <see cref="UsageException"/>.</summary>
public sealed record LocalRunOptions
{
    public const string Usage = """
        usage: ./run.sh [--events FILE...] [--generate N [--record-bytes B] [--topics T,..] [--partitions P] [--bad-ratio R] [--value-format F]]
                        [--batch-size N] [--chaos SEED] [--insert-mode M] [--routing] [--clickhouse-url URL] [--bootstrap PATH] [--keep]
               ./run.sh --cdc [--partitions P] [--batch-size N] [--clickhouse-url URL] [--bootstrap PATH]
          --events FILE...     MSK event JSON files, one invocation each (default: events/*.json)
          --generate N         N synthetic records (realistic JSON, ~1% deliberately bad) over --topics x --partitions
          --record-bytes B     approximate size of each generated value (default 200)
          --topics T,..        topics for --generate (default orders,clicks)
          --value-format F     json (default), avro or protobuf: generated values framed for a schema registry
                               (Confluent and Glue framing) and decoded by the function with the built-in registry emulator
          --partitions P       partitions per topic (default 4)
          --batch-size N       records per invocation (default 500; capped so that the event stays under 6 MB)
          --chaos SEED         deliver through a simulated event-source mapping (re-batching, bisects, redeliveries,
                               concurrent different batches) with ClickHouse faults (late apply, lagging replica, ...)
          --insert-mode M      sync (default) or async: the function's INSERT_MODE (docs/exactly-once.md, "Insert modes")
          --routing            also run the content-routing example: one topic into several tables by field, another
                               by header and key prefix (ROUTES), delivered, redelivered and re-batched
          --clickhouse-url URL use this ClickHouse (CLICKHOUSE_USER/CLICKHOUSE_PASSWORD) instead of the embedded one
          --bootstrap PATH     use this published bootstrap instead of publishing src/Function
          --keep               leave ClickHouse and the function running and print how to query them
          --cdc                CDC_FORMAT=debezium demo: a generated Debezium change history into ReplacingMergeTree
                               tables (docs/cdc.md), redelivered, the final state printed and checked
        """;

    public List<string> EventFiles { get; } = [];

    public int Generate { get; private set; }

    public int RecordBytes { get; private set; } = 200;

    /// <summary>json, avro or protobuf (--value-format).</summary>
    public string ValueFormat { get; private set; } = "json";

    public IReadOnlyList<string> Topics { get; private set; } = ["orders", "clicks"];

    public int Partitions { get; private set; } = 4;

    public double BadRatio { get; private set; } = 0.01;

    public int BatchSize { get; private set; } = 500;

    public int? ChaosSeed { get; private set; }

    /// <summary>--insert-mode: the function's INSERT_MODE, sync or async.</summary>
    public string InsertMode { get; private set; } = "sync";

    public Uri? ClickHouseUrl { get; private set; }

    /// <summary>--routing: run the content-routing example (<see cref="RoutingDemo"/>).</summary>
    public bool Routing { get; private set; }

    public string? Bootstrap { get; private set; }

    public bool Keep { get; private set; }

    /// <summary>--cdc: the Debezium change-event demo instead of the row demos.</summary>
    public bool Cdc { get; private set; }

    public static LocalRunOptions Parse(IReadOnlyList<string> args)
    {
        var o = new LocalRunOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal)
                ? args[++i]
                : throw new UsageException($"{name} needs a value");
            int Int(int min, int max)
            {
                var text = Value();
                return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
                    ? v
                    : throw new UsageException($"{name}: expected an integer in [{min}, {max}], got '{text}'");
            }

            switch (name)
            {
                case "--events":
                    while (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    {
                        o.EventFiles.Add(args[++i]);
                    }

                    if (o.EventFiles.Count == 0)
                    {
                        throw new UsageException("--events needs at least one file");
                    }

                    break;
                case "--generate": o.Generate = Int(1, 100_000_000); break;
                case "--record-bytes": o.RecordBytes = Int(60, 1_000_000); break;
                case "--topics":
                    o.Topics = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    if (o.Topics.Count == 0 || o.Topics.Any(t => !t.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')))
                    {
                        throw new UsageException("--topics: expected comma-separated names of letters, digits and '_'");
                    }

                    break;
                case "--partitions": o.Partitions = Int(1, 1000); break;
                case "--value-format":
                    var f = Value().ToLowerInvariant();
                    o.ValueFormat = f is "json" or "avro" or "protobuf" ? f : throw new UsageException($"--value-format: expected json, avro or protobuf, got '{f}'");
                    break;
                case "--bad-ratio":
                    var r = Value();
                    o.BadRatio = double.TryParse(r, NumberStyles.Float, CultureInfo.InvariantCulture, out var ratio) && ratio is >= 0 and <= 1
                        ? ratio
                        : throw new UsageException($"--bad-ratio: expected a number in [0, 1], got '{r}'");
                    break;
                case "--batch-size": o.BatchSize = Int(1, 100_000); break;
                case "--chaos": o.ChaosSeed = Int(0, int.MaxValue); break;
                case "--insert-mode":
                    var m = Value().ToLowerInvariant();
                    o.InsertMode = m is "sync" or "async" ? m : throw new UsageException($"--insert-mode: expected sync or async, got '{m}'");
                    break;
                case "--clickhouse-url":
                    var u = Value();
                    o.ClickHouseUrl = Uri.TryCreate(u, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
                        ? uri
                        : throw new UsageException($"--clickhouse-url: expected an http(s) URL, got '{u}'");
                    break;
                case "--bootstrap": o.Bootstrap = Value(); break;
                case "--keep": o.Keep = true; break;
                case "--cdc": o.Cdc = true; break;
                case "--routing": o.Routing = true; break;
                case "-h" or "--help": throw new UsageException(null);
                default: throw new UsageException($"unknown option '{name}'");
            }
        }

        if (o.Cdc && (o.EventFiles.Count > 0 || o.Generate > 0 || o.ChaosSeed is not null || o.Keep))
        {
            throw new UsageException("--cdc sends its own generated change history: drop --events, --generate, --chaos and --keep");
        }

        if (o.ValueFormat != "json" && o.Generate == 0)
        {
            throw new UsageException("--value-format needs --generate N");
        }

        if (o.EventFiles.Count > 0 && o.Generate > 0)
        {
            throw new UsageException("use either --events or --generate");
        }

        if (o.ChaosSeed is not null && o.Generate == 0)
        {
            throw new UsageException("--chaos needs --generate N");
        }

        return o;
    }
}

/// <summary>Bad command-line input or input files; the message says what and where. A null message asks for the usage.</summary>
public sealed class UsageException(string? message) : Exception(message ?? "usage");
