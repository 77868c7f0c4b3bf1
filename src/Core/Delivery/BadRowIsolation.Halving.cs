using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Delivery.State;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// Halving, for units ClickHouse rejects without naming a row: in the dry run against a Null-engine copy of the table
/// (nothing lands, no sub-token exists), or, when no copy can be used, for real under sub-tokens (docs/exactly-once.md).
/// </summary>
public sealed partial class BadRowIsolation
{
    /// <summary>
    /// Halves the rows in the dry run until each rejected row is alone, and removes those rows from
    /// <paramref name="candidates"/> (dead letters with the engine's message); returns how many, or null when no dry-run
    /// copy can be made. Nothing lands: the caller sends the rest as one block under the unit's token.
    /// </summary>
    private async Task<int?> DryBisectAsync(List<int> candidates, string token)
    {
        var bad = new List<(int Row, ClickHouseException Error)>();
        if (!await DryHalvesAsync(candidates, token, bad))
        {
            return null;
        }

        foreach (var (row, error) in bad)
        {
            _io.Reject(row, error);
        }

        var rejected = bad.Select(b => b.Row).ToHashSet();
        candidates.RemoveAll(rejected.Contains);
        return bad.Count;
    }

    private async Task<bool> DryHalvesAsync(List<int> rows, string token, List<(int Row, ClickHouseException Error)> bad)
    {
        if (rows.Count == 0)
        {
            return true;
        }

        await CheckTimeAsync(token);
        try
        {
            Probes++;
            return await _io.DryRun!(rows);
        }
        catch (ClickHouseException e) when (e.Kind == ClickHouseErrorKind.Data)
        {
            if (rows.Count == 1)
            {
                bad.Add((rows[0], e));
                return true;
            }

            var mid = rows.Count / 2;
            return await DryHalvesAsync(rows[..mid], token, bad) && await DryHalvesAsync(rows[mid..], token, bad);
        }
    }

    /// <summary>
    /// The unfenced fallback (no dry-run copy): halves are inserted for real under <c>&lt;token&gt;/0</c>,
    /// <c>&lt;token&gt;/1</c>; a half's late apply after a later attempt sent a different body can land rows twice.
    /// </summary>
    private async Task<long> BisectAsync(List<int> rows, string token)
    {
        if (rows.Count == 0)
        {
            return 0;
        }

        await CheckTimeAsync(token);
        try
        {
            Probes++;
            return await _io.Insert(rows, token);
        }
        catch (ClickHouseException e) when (e.Kind == ClickHouseErrorKind.Data)
        {
            if (rows.Count == 1)
            {
                _io.Reject(rows[0], e);
                return 0;
            }

            var mid = rows.Count / 2;
            SubTokenHalves += 2;
            return await BisectAsync(rows[..mid], DeduplicationToken.ForHalf(token, 0))
                + await BisectAsync(rows[mid..], DeduplicationToken.ForHalf(token, 1));
        }
    }
}
