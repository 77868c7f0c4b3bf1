using MskClickHouse.RuntimeApiEmulator;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.Bench.EndToEnd.Sections;

internal sealed record CompressionMode(string Mode, double BytesPerRecord, double CpuMsPerBatch, double MsPerBatch, double WireBytesPerBatch, List<double> Ms);

internal sealed record CompressionResult(long RowsBytes, int Repetitions, List<CompressionMode> Modes);

/// <summary>Section 5: client→server bytes and bootstrap CPU per batch for each CLICKHOUSE_COMPRESSION, through a counting proxy.</summary>
internal static class CompressionSection
{
    public static async Task<CompressionResult> RunAsync(BenchContext context, Workload workload, CancellationToken ct)
    {
        var options = context.Options;
        var engine = context.Engine;
        var results = new List<CompressionMode>();
        var rowsBytes = 0L;
        foreach (var mode in options.Compressions)
        {
            var db = await context.CreateDatabaseAsync("wire_" + mode, ct);
            await engine.QueryAsync(Workload.CreateTable(db, "events"), ct);
            await using var proxy = new CountingProxy(engine.Url.Port);
            await using var emulator = Emulator.Start(new RuntimeApiEmulatorOptions { FunctionTimeout = TimeSpan.FromMinutes(2) });
            using var function = BootstrapProcess.Start(context.Aot, emulator.Endpoint, context.Env(new Uri($"http://127.0.0.1:{proxy.Port}"), db, mode));
            var bytes = new List<double>();
            var cpu = new List<double>();
            var ms = new List<double>();
            var rows = 0;
            for (var rep = 0; rep <= options.Repetitions; rep++)
            {
                var mskEvent = workload.Event(rep);
                if (rep == 1)
                {
                    rowsBytes = Workload.Rows(mskEvent, out rows).Length;
                }

                var b0 = proxy.ClientToServerBytes;
                var c0 = ProcessCpu.Ms(function.ProcessId);
                var t = await BenchContext.InvokeAsync(emulator, function, mskEvent, ct);
                var c1 = ProcessCpu.Ms(function.ProcessId);
                var b1 = proxy.ClientToServerBytes;
                if (rep > 0)
                {
                    bytes.Add(b1 - b0);
                    cpu.Add(c1 - c0);
                    ms.Add(t);
                }
            }

            function.Terminate();
            await function.WaitForExitAsync(TimeSpan.FromSeconds(10));
            rows = rows == 0 ? workload.Records : rows;
            results.Add(new CompressionMode(mode, Stats.Median(bytes) / rows, cpu.Average(), Stats.Median(ms), Stats.Median(bytes), ms));
        }

        return new CompressionResult(rowsBytes, options.Repetitions, results);
    }
}
