using System.Globalization;

namespace MskClickHouse.Bench.EndToEnd;

internal static class Stats
{
    public static double Median(IEnumerable<double> values)
    {
        var s = values.Order().ToArray();
        if (s.Length == 0)
        {
            return double.NaN;
        }

        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[(s.Length / 2) - 1] + s[s.Length / 2]) / 2;
    }

    /// <summary>Nearest-rank percentile (0 &lt; p ≤ 100).</summary>
    public static double Percentile(IEnumerable<double> values, double p)
    {
        var s = values.Order().ToArray();
        return s.Length == 0 ? double.NaN : s[Math.Clamp((int)Math.Ceiling(p / 100 * s.Length) - 1, 0, s.Length - 1)];
    }

    public static string F(double v, string format = "0.0") => double.IsNaN(v) ? "n/a" : v.ToString(format, CultureInfo.InvariantCulture);

    public static string Range(IReadOnlyCollection<double> values, string format = "0.0") =>
        values.Count == 0 ? "n/a" : $"{F(Median(values), format)} [{F(values.Min(), format)}–{F(values.Max(), format)}]";

    /// <summary>Total length of the union of [start, end) intervals (concurrent calls count once).</summary>
    public static double UnionLength(IEnumerable<(double Start, double End)> intervals)
    {
        double total = 0, curStart = double.NaN, curEnd = double.NaN;
        foreach (var (start, end) in intervals.OrderBy(i => i.Start))
        {
            if (double.IsNaN(curStart) || start > curEnd)
            {
                if (!double.IsNaN(curStart))
                {
                    total += curEnd - curStart;
                }

                curStart = start;
                curEnd = end;
            }
            else
            {
                curEnd = Math.Max(curEnd, end);
            }
        }

        return double.IsNaN(curStart) ? total : total + curEnd - curStart;
    }
}
