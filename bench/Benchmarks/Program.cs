using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using MskClickHouse.Benchmarks;

// In-process, short job (3 warm-ups, 3 iterations): the whole run takes a few minutes on 2 cores.
// Pass --job to BenchmarkDotNet for longer runs; --filter '*' runs everything.
var config = DefaultConfig.Instance
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
    .AddColumn(new ThroughputColumn());
BenchmarkSwitcher.FromAssembly(typeof(DecodeBenchmarks).Assembly).Run(args, config);

/// <summary>Payload size and payload MB/s (payload bytes / mean time) of each <see cref="DecodeBenchmarks"/> case.</summary>
internal sealed class ThroughputColumn : IColumn
{
    private static readonly Dictionary<string, int> Sizes = [];

    public string Id => nameof(ThroughputColumn);

    public string ColumnName => "Payload MB/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Payload megabytes (10^6 bytes) decoded per second: payload bytes / mean time";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var report = summary[benchmarkCase];
        var scenario = (string)benchmarkCase.Parameters["Scenario"];
        if (benchmarkCase.Descriptor.Type == typeof(FramedDecodeBenchmarks))
        {
            // Avro payload bytes (the values without framing), so the figure is the transcoder's own rate.
            var f = new FramedDecodeBenchmarks { Scenario = scenario };
            f.Setup();
            var m = report?.ResultStatistics?.Mean;
            var proto = benchmarkCase.Descriptor.WorkloadMethod.Name.Contains("Protobuf", StringComparison.Ordinal);
            var bytes = proto ? f.ProtoBytes : f.AvroBytes;
            return m is null ? "NA" : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / 1e6:F2} MB {(proto ? "Protobuf" : "Avro")} @ {bytes / 1e6 / (m.Value / 1e9):F0}");
        }

        if (!Sizes.TryGetValue(scenario, out var size))
        {
            var b = new DecodeBenchmarks { Scenario = scenario };
            b.Setup();
            size = Sizes[scenario] = b.PayloadBytes;
        }

        var mean = report?.ResultStatistics?.Mean;
        return mean is null
            ? "NA"
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{size / 1e6:F2} MB @ {size / 1e6 / (mean.Value / 1e9):F0}");
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
