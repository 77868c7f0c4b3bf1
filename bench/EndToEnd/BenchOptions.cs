using System.Globalization;

namespace MskClickHouse.Bench.EndToEnd;

/// <summary>The sections of a run; <c>--sections</c> picks some (the ones they need come along).</summary>
internal enum BenchSection
{
    Decode,
    EndToEnd,
    ColdStart,
    Memory,
    Compression,
    Cost,
    Breakdown,
    Scale,
    Routing,
}

/// <summary>Command line of ./bench.sh. Defaults are the full run; the test passes tiny sizes.</summary>
internal sealed record BenchOptions
{
    public const string Usage = """
        usage: ./bench.sh [options]
          --repetitions N       end-to-end batches per measurement (median reported; default 7)
          --records N           records per end-to-end batch (default: as many 450-byte values as fit 6 MB)
          --value-bytes N       value size of the end-to-end batch (default 450)
          --decode-iterations N Stopwatch repetitions per decode shape (default 30)
          --decode-scale F      fraction of the decode shapes' record counts (default 1)
          --cold-starts N       process starts per build (default 7)
          --compressions LIST   request compressions to compare (default none,gzip,zstd)
          --clickhouse-url URL  use this server (must read local files for INFILE) instead of starting the embedded one
          --clickhouse-user U   user for --clickhouse-url (default CLICKHOUSE_USER or default)
          --clickhouse-password P
          --aot-bootstrap PATH  use this Native AOT bootstrap instead of publishing one
          --jit-bootstrap PATH  use this bootstrap.dll instead of publishing one
          --output PATH         JSON results (default artifacts/bench/results.json)
          --sections LIST       run only these sections: decode,e2e,cold,memory,compression,cost,breakdown,scale,routing
                                (memory and cost bring e2e along, cost brings compression; default all)
          --baseline-bootstrap PATH  also run this (e.g. an older) AOT bootstrap in section 2's rotation: before/after in one run
          --bootstrap-env K=V   extra environment variable for every bootstrap process (repeatable; for experiments)
          --scale               the scale simulation alone (same as --sections scale)
          --scale-processes L   concurrent bootstrap processes per step (default 1,2,4,8)
          --scale-partitions L  partitions of the simulated topic per step (default 8,32)
          --scale-seconds N     seconds each (processes, partitions) step runs (default 12)
          --scale-records N     records per invocation in the scale simulation (default 1000), split evenly over
                                the partitions of the event (at least 1 each)
          --scale-partitions-per-event K|all
                                partitions each scale invocation carries (default all: one event holds every
                                partition of the step, like one poller reading the whole topic; 1 = one partition per
                                event); --baseline-bootstrap runs every scale step with that build too
        """;

    public int Repetitions { get; init; } = 7;

    public int? Records { get; init; }

    public int ValueBytes { get; init; } = 450;

    public int DecodeIterations { get; init; } = 30;

    public double DecodeScale { get; init; } = 1;

    public int ColdStarts { get; init; } = 7;

    public IReadOnlyList<string> Compressions { get; init; } = ["none", "gzip", "zstd"];

    public Uri? ClickHouseUrl { get; init; }

    public string ClickHouseUser { get; init; } = Environment.GetEnvironmentVariable("CLICKHOUSE_USER") ?? "default";

    public string ClickHousePassword { get; init; } = Environment.GetEnvironmentVariable("CLICKHOUSE_PASSWORD") ?? string.Empty;

    public string? AotBootstrap { get; init; }

    public string? JitBootstrap { get; init; }

    public string? BaselineBootstrap { get; init; }

    public string? Output { get; init; }

    /// <summary>Null: every section.</summary>
    public IReadOnlySet<BenchSection>? Sections { get; init; }

    public IReadOnlyDictionary<string, string> BootstrapEnv { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<int> ScaleProcesses { get; init; } = [1, 2, 4, 8];

    public IReadOnlyList<int> ScalePartitions { get; init; } = [8, 32];

    public int ScaleSeconds { get; init; } = 12;

    public int ScaleRecords { get; init; } = 1000;

    /// <summary>Null: every partition of the step in each event.</summary>
    public int? ScalePartitionsPerEvent { get; init; }

    public bool Runs(BenchSection section) =>
        Sections is null || Sections.Contains(section)
        || (section == BenchSection.EndToEnd && (Sections.Contains(BenchSection.Memory) || Sections.Contains(BenchSection.Cost)))
        || (section == BenchSection.Compression && Sections.Contains(BenchSection.Cost));

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int[] Ints() => [.. Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t => int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"{args[i - 1]} expects positive integers separated by commas"))];
            int? NextAll()
            {
                i++;
                return null;
            }

            int Int() => int.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"{args[i - 1]} expects a positive integer");
            o = args[i] switch
            {
                "--repetitions" => o with { Repetitions = Int() },
                "--records" => o with { Records = Int() },
                "--value-bytes" => o with { ValueBytes = Int() },
                "--decode-iterations" => o with { DecodeIterations = Int() },
                "--decode-scale" => o with { DecodeScale = double.TryParse(Next(), NumberStyles.Float, CultureInfo.InvariantCulture, out var f) && f > 0 && f <= 1 ? f : throw new ArgumentException("--decode-scale expects 0 < F <= 1") },
                "--cold-starts" => o with { ColdStarts = Int() },
                "--compressions" => o with { Compressions = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--clickhouse-url" => o with { ClickHouseUrl = new Uri(Next()) },
                "--clickhouse-user" => o with { ClickHouseUser = Next() },
                "--clickhouse-password" => o with { ClickHousePassword = Next() },
                "--aot-bootstrap" => o with { AotBootstrap = Next() },
                "--jit-bootstrap" => o with { JitBootstrap = Next() },
                "--baseline-bootstrap" => o with { BaselineBootstrap = Next() },
                "--output" => o with { Output = Next() },
                "--sections" => o with { Sections = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(SectionOf).ToHashSet() },
                "--bootstrap-env" => o with { BootstrapEnv = With(o.BootstrapEnv, Next()) },
                "--scale" => o with { Sections = new HashSet<BenchSection> { BenchSection.Scale } },
                "--scale-processes" => o with { ScaleProcesses = Ints() },
                "--scale-partitions" => o with { ScalePartitions = Ints() },
                "--scale-seconds" => o with { ScaleSeconds = Int() },
                "--scale-records" => o with { ScaleRecords = Int() },
                "--scale-partitions-per-event" => o with { ScalePartitionsPerEvent = args.ElementAtOrDefault(i + 1) == "all" ? NextAll() : Int() },
                "-h" or "--help" => throw new ArgumentException("usage"),
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }

        foreach (var c in o.Compressions)
        {
            if (c is not ("none" or "gzip" or "zstd"))
            {
                throw new ArgumentException($"--compressions: unknown compression '{c}' (none, gzip, zstd)");
            }
        }

        return o;
    }

    private static Dictionary<string, string> With(IReadOnlyDictionary<string, string> env, string pair)
    {
        var eq = pair.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            throw new ArgumentException($"--bootstrap-env expects NAME=VALUE, got '{pair}'");
        }

        return new Dictionary<string, string>(env) { [pair[..eq]] = pair[(eq + 1)..] };
    }

    private static BenchSection SectionOf(string name) => name switch
    {
        "decode" => BenchSection.Decode,
        "e2e" => BenchSection.EndToEnd,
        "cold" => BenchSection.ColdStart,
        "memory" => BenchSection.Memory,
        "compression" => BenchSection.Compression,
        "cost" => BenchSection.Cost,
        "breakdown" => BenchSection.Breakdown,
        "scale" => BenchSection.Scale,
        "routing" => BenchSection.Routing,
        _ => throw new ArgumentException($"--sections: unknown section '{name}' (decode, e2e, cold, memory, compression, cost, breakdown, scale, routing)"),
    };
}
