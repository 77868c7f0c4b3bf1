using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Delivery.State;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// <see cref="BadRowIsolation"/>'s last step, for units ClickHouse rejects without naming a row: the rows are halved
/// until each rejected one is alone, in the dry run against a Null-engine copy of the table (nothing lands, no
/// sub-token exists), or, when no copy can be used, for real under sub-tokens (docs/exactly-once.md).
/// </summary>
/// <param name="io">The unit's I/O: <see cref="IsolationIo.DryRun"/>, <see cref="IsolationIo.Insert"/>, <see cref="IsolationIo.Reject"/>.</param>
/// <param name="checkTime">Called before every request with the unit's token; throws when the isolation is out of time.</param>
internal sealed class Halving(IsolationIo io, Func<string, Task> checkTime)
{
    /// <summary>Dry runs and inserts sent.</summary>
    public int Requests { get; private set; }

    /// <summary>Halves sent for real under a sub-token (the unfenced fallback).</summary>
    public int SubTokenHalves { get; private set; }

    /// <summary>
    /// Halves the rows in the dry run until each rejected row is alone, and removes those rows from
    /// <paramref name="candidates"/> (dead letters with the engine's message); returns how many, or null when no dry-run
    /// copy can be made. Nothing lands: the caller sends the rest as one block under the unit's token.
    /// </summary>
    public async Task<int?> DryAsync(List<int> candidates, string token)
    {
        var bad = new List<(int Row, ClickHouseException Error)>();
        if (!await DryHalvesAsync(candidates, token, bad))
        {
            return null;
        }

        foreach (var (row, error) in bad)
        {
            io.Reject(row, error);
        }

        var rejected = bad.Select(b => b.Row).ToHashSet();
        candidates.RemoveAll(rejected.Contains);
        return bad.Count;
    }

    /// <summary>
    /// The unfenced fallback (no dry-run copy): halves are inserted for real under <c>&lt;token&gt;/0</c>,
    /// <c>&lt;token&gt;/1</c>; a half's late apply after a later attempt sent a different body can land rows twice.
    /// Returns the rows written.
    /// </summary>
    public async Task<long> InsertAsync(List<int> rows, string token)
    {
        if (rows.Count == 0)
        {
            return 0;
        }

        await checkTime(token);
        try
        {
            Requests++;
            return await io.Insert(rows, token);
        }
        catch (ClickHouseException e) when (e.Kind == ClickHouseErrorKind.Data)
        {
            if (rows.Count == 1)
            {
                io.Reject(rows[0], e);
                return 0;
            }

            var mid = rows.Count / 2;
            SubTokenHalves += 2;
            return await InsertAsync(rows[..mid], DeduplicationToken.ForHalf(token, 0))
                + await InsertAsync(rows[mid..], DeduplicationToken.ForHalf(token, 1));
        }
    }

    private async Task<bool> DryHalvesAsync(List<int> rows, string token, List<(int Row, ClickHouseException Error)> bad)
    {
        if (rows.Count == 0)
        {
            return true;
        }

        await checkTime(token);
        try
        {
            Requests++;
            return await io.DryRun!(rows);
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
}
