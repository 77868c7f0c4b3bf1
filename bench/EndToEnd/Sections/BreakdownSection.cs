namespace MskClickHouse.Bench.EndToEnd.Sections;

internal sealed record BreakdownPart(string Kind, double Ms, double Calls);

internal sealed record BreakdownResult(List<double> Total, List<BreakdownPart> Parts, double OutsideMs, double DecodeEncodeMs)
{
    public double TotalMs => Stats.Median(Total);
}

/// <summary>Section 7: where the in-process handler's time goes, per kind of ClickHouse call and outside them.</summary>
internal static class BreakdownSection
{
    public static BreakdownResult Build(InProcessResult inProcess)
    {
        var b = inProcess.Breakdown;
        var parts = InProcessRun.Kinds
            .Select(kind => new BreakdownPart(kind, Stats.Median(b.Select(x => x[kind])), Stats.Median(b.Select(x => x[kind + " calls"]))))
            .ToList();
        return new BreakdownResult([.. b.Select(x => x["total"])], parts, Stats.Median(b.Select(x => x["outside ClickHouse calls"])), inProcess.DecodeEncodeMs);
    }
}
