namespace MskClickHouse.Bench.EndToEnd.Sections;

internal sealed record MemoryResult(long AotPeakRssBytes, int BatchesBeforePeak, int EventBytes, List<double> AllocatedBytes, long AotBinaryBytes)
{
    public double AllocatedMedian => Stats.Median(AllocatedBytes);
}

/// <summary>Section 4: peak RSS of the AOT bootstrap after section 2, managed allocations of the in-process handler.</summary>
internal static class MemorySection
{
    public static MemoryResult Build(BenchContext context, EndToEndResult e2e, InProcessResult inProcess) =>
        new(e2e.PeakRss, context.Options.Repetitions + 1, e2e.EventBytes, inProcess.Allocated, new FileInfo(context.Aot).Length);
}
