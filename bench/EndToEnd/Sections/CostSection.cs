namespace MskClickHouse.Bench.EndToEnd.Sections;

internal sealed record CostRow(string Compression, int MemoryMb, double EstMsPerBatch, double GbSecondsPerMillion, double Arm64Usd, double X86Usd, double RequestsUsd, double NatUsd, double TotalArm64Usd);

internal sealed record CostResult(DateTime Date, double InvocationsPerMillion, int RowsPerBatch, List<CostRow> Rows)
{
    public const double Arm = 0.0000133334, X86 = 0.0000166667, PerRequest = 0.20 / 1e6, NatPerGb = 0.045;
}

/// <summary>Section 6: cost per million records from sections 2 (wait for ClickHouse) and 5 (CPU and bytes per compression).</summary>
internal static class CostSection
{
    public static CostResult Build(EndToEndResult e2e, CompressionResult compression)
    {
        var batches = 1e6 / e2e.Rows;
        var rows = new List<CostRow>();
        // The wait for ClickHouse comes from the direct run (section 2) minus the sink's own CPU without compression: the
        // proxy of section 5 adds its own latency, and the embedded server decodes zstd through a temporary file.
        var noneCpu = compression.Modes.FirstOrDefault(c => c.Mode == "none")?.CpuMsPerBatch ?? 0;
        var wait = Math.Max(0, e2e.SinkMs - noneCpu);
        foreach (var c in compression.Modes)
        {
            foreach (var memory in new[] { 256, 512, 1024 })
            {
                var ms = (c.CpuMsPerBatch * Math.Max(1, 1769.0 / memory)) + wait;
                var gbs = memory / 1024.0 * ms / 1000 * batches;
                var nat = c.BytesPerRecord * 1e6 / (1024.0 * 1024 * 1024) * CostResult.NatPerGb;
                var requests = batches * CostResult.PerRequest;
                var total = (gbs * CostResult.Arm) + requests + nat;
                rows.Add(new CostRow(c.Mode, memory, ms, gbs, gbs * CostResult.Arm, gbs * CostResult.X86, requests, nat, total));
            }
        }

        return new CostResult(DateTime.UtcNow, batches, e2e.Rows, rows);
    }
}
