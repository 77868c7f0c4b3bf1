using System.Globalization;
using MskClickHouse.Core.ClickHouse;

namespace MskClickHouse.Core.Delivery;

/// <summary>What <see cref="BadRowIsolation"/> needs from the partition's delivery run (I/O behind delegates).</summary>
/// <param name="Insert">Inserts the rows under a token and lands them; returns the rows written. Throws ClickHouseException.</param>
/// <param name="Probe">Sends the rows followed by a sentinel line that can never parse, so nothing lands; always throws.</param>
/// <param name="Reject">Moves a row to the dead letters with the engine's error (the row ClickHouse named).</param>
/// <param name="OffsetOf">The Kafka offset of a row.</param>
/// <param name="MarkedDeadLetters">Offsets in [first, last] that an earlier attempt of this unit dead-lettered under the given mark.</param>
/// <param name="FlushDeadLetters">Writes the rejected rows with these offsets, their reasons ending with the mark, under the
/// unit's dead-letter token plus the given suffix, before giving up for lack of time; returns how many it wrote.</param>
/// <param name="Classify">Optional: asks the engine in one request per chunk which of these rows parse (see
/// <see cref="ParseClassification"/>); null when it cannot tell. Counted in <see cref="BadRowIsolation.Classifications"/>.</param>
/// <param name="DryRun">Optional: sends the rows to a copy of the table that stores nothing (<see cref="DryRunTable"/>);
/// true when all pass, false when no copy can be made, throws the engine's data error otherwise.</param>
public sealed record IsolationIo(
    Func<List<int>, string, Task<long>> Insert,
    Func<List<int>, string, Task> Probe,
    Action<int, ClickHouseException> Reject,
    Func<int, long> OffsetOf,
    Func<long, long, string, Task<HashSet<long>>> MarkedDeadLetters,
    Func<HashSet<long>, string, string, Task<int>> FlushDeadLetters,
    Func<List<int>, Task<(HashSet<int>? Parsed, int Requests)>>? Classify = null,
    Func<List<int>, Task<bool>>? DryRun = null);

/// <summary>
/// Finds the rows of one unit that ClickHouse rejects, at a bounded cost, so that the good rows still land as one block
/// under the unit's token and every rejected row is dead-lettered with the engine's own reason.
/// <para>
/// Parse-level errors (every type error measured, see ClickHouseErrors.DataCodes) stop the parser at the first bad row
/// and name it "(at row N)". Rows are therefore located with probes: the rows followed by a sentinel line, so the
/// insert always fails and never lands; the error names the first bad row, or the sentinel when all rows parse.
/// Windows grow while they parse and shrink to the last gap after a bad row, so a unit costs about one probe per bad
/// row plus log n, and no probe body is larger than twice the last gap between bad rows (an all-bad unit sends tiny ones).
/// </para>
/// <para>
/// Once the probes have found <see cref="ClassifyAfter"/> bad rows, the engine is asked once which rows of the unit parse
/// (<see cref="ParseClassification"/>, one SELECT per chunk). Its answer is used only when the engine confirms it: a
/// probe of the rows said to parse passes, and each of the first <see cref="ExactReasons"/> rows said not to parse fails
/// alone (their dead letters carry the engine's own message); the others carry the engine's verdict and that first
/// message, named as such. Otherwise probing goes on. An all-bad 10,000-row unit costs 64 inserts and 7 SELECTs instead
/// of 10,000 probes.
/// </para>
/// <para>
/// Block-level errors (CHECK constraints 469 "violated at row N", DEFAULT expressions that throw 395) only appear on the
/// real insert: the named row is removed and the block sent again, up to <see cref="BlockLevelRowLimit"/> times, then
/// the rest is found by halving.
/// </para>
/// <para>
/// When the server names no row (a DEFAULT expression that throws, code 395) or after that limit, the unit is halved in a
/// dry run (<see cref="IsolationIo.DryRun"/>: a Null-engine copy of the table evaluates defaults and constraints and
/// stores nothing) until each rejected row is alone; the good rows then land as one block under the unit's token. No part
/// of a unit lands under another token: a sub-token would be a name that a later attempt, sending a different body under
/// the unit's token, neither uses nor consumes, so a late apply of it could land rows twice (docs/exactly-once.md). Only
/// when no copy can be made (or it judges the rows differently from the table) are the halves inserted for real, under
/// <c>&lt;token&gt;/0</c>, <c>&lt;token&gt;/1</c>: the unfenced fallback, counted in <see cref="SubTokenHalves"/>.
/// </para>
/// <para>
/// Deterministic: the engine answers the same rows the same way, so a retry of the unit after a crash makes the same
/// probes and the same final insert under the same token. When time runs out, the rows found so far are dead-lettered
/// under a mark naming the unit's token; the retry reads them back and continues where this attempt stopped.
/// </para>
/// </summary>
public sealed class BadRowIsolation
{
    /// <summary>Block-level rejections re-sent as a whole block before the rest is found by halving.</summary>
    public const int BlockLevelRowLimit = 64;

    /// <summary>The first probe window after a bad row (rows).</summary>
    public const int InitialWindow = 16;

    /// <summary>The largest probe window (rows).</summary>
    public const int MaxWindow = 1 << 16;

    /// <summary>
    /// Out of time, the rows found are written per chunk of this many rows of the unit, and only for chunks the probes
    /// finished: a chunk's bad rows are a function of its content, so attempts running at once write the same rows
    /// under the same token (one copy lands) and a retry that finds none of a flushed chunk writes nothing for it.
    /// </summary>
    public const int FlushChunk = 128;

    private readonly IsolationIo _io;
    private readonly Halving _halving;
    private readonly TimeProvider _time;
    private readonly DateTimeOffset _stopAt;
    private readonly List<int> _scanRejected = [];
    private List<int> _unit = [];
    private int _frontier;
    private bool _classified;
    private bool _dryRan;
    private int _probes;

    /// <param name="stopAt">No isolation step starts after this instant; the dead letters found are written instead.</param>
    public BadRowIsolation(IsolationIo io, TimeProvider time, DateTimeOffset stopAt)
    {
        _io = io;
        _time = time;
        _stopAt = stopAt;
        _halving = new Halving(io, CheckTimeAsync);
    }

    /// <summary>Probes and inserts made (for tests and metrics).</summary>
    public int Probes => _probes + _halving.Requests;

    /// <summary>Halves sent for real under a sub-token (the unfenced fallback; 0 with a dry-run copy).</summary>
    public int SubTokenHalves => _halving.SubTokenHalves;

    /// <summary>Classification requests made (SELECTs, see <see cref="ParseClassification"/>).</summary>
    public int Classifications { get; private set; }

    /// <summary>Rows left to scan below which probing goes on: a few probes cost less than classifying.</summary>
    public const int ClassifyMinRows = 64;

    /// <summary>
    /// Bad rows the probes find before the rest is classified in one request per chunk: a unit with few bad rows keeps
    /// costing one probe per bad row plus log n, and one with many pays at most this many probes before classifying.
    /// </summary>
    public const int ClassifyAfter = 32;

    /// <summary>
    /// After a classification, the first this many rows it says do not parse are probed one by one, each for the
    /// engine's own message; the rest carry the engine's verdict and the message of the first of them (see Reason).
    /// </summary>
    public const int ExactReasons = 32;

    /// <summary>
    /// The line a probe ends with: JSONEachRow expects '{' and fails at it with "(at row N)" (measured: code 27), so a
    /// probe never lands, and naming this row means every row before it parsed.
    /// </summary>
    public static ReadOnlyMemory<byte> Sentinel { get; } = "!sink-probe-sentinel: never a row\n"u8.ToArray();

    /// <summary>The mark put into the reason of dead letters flushed before the unit finished.</summary>
    public static string MarkOf(string token) => "[isolation of " + token + "]";

    /// <summary>Lands the good rows of a unit whose insert failed with <paramref name="first"/> (a data error).</summary>
    public async Task<long> InsertAsync(List<int> rows, string token, ClickHouseException first)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(first);
        _unit = rows;
        var candidates = new List<int>(rows);
        var scanFrom = 0;

        // Rows an earlier attempt dead-lettered before it ran out of time are not looked at again.
        var known = await _io.MarkedDeadLetters(_io.OffsetOf(candidates[0]), _io.OffsetOf(candidates[^1]), MarkOf(token));
        if (known.Count > 0)
        {
            candidates.RemoveAll(r => known.Contains(_io.OffsetOf(r)));
        }
        else if (first.RowNumber is { } n && n <= candidates.Count)
        {
            if (!IsBlockLevel(first))
            {
                _scanRejected.Add(candidates[n - 1]);
            }

            Reject(candidates, n - 1, first);
            scanFrom = n - 1;
        }

        if (!IsBlockLevel(first))
        {
            await ScanAsync(candidates, scanFrom, token);
        }

        return await FinalAsync(candidates, token);
    }

    /// <summary>
    /// The fast path: one classification (a request per chunk) says which rows parse. It is used only when the engine
    /// confirms it: a probe of all the rows said to parse must pass, and each of the first <see cref="ExactReasons"/>
    /// rows said not to parse must fail alone, with the engine's own message. Otherwise nothing is rejected here and
    /// probing takes over (returns false). On success the rejected rows are removed from <paramref name="candidates"/>.
    /// </summary>
    private async Task<bool> ClassifyAsync(List<int> candidates, string token)
    {
        await CheckTimeAsync(token);
        var (parsed, requests) = await _io.Classify!(candidates);
        Classifications += requests;
        if (parsed is null)
        {
            return false;
        }

        var good = candidates.Where(parsed.Contains).ToList();
        var bad = candidates.Where(r => !parsed.Contains(r)).ToList();
        if (good.Count > 0 && !await ProbePassesAsync(good, token))
        {
            return false;
        }

        var exact = new List<(int Row, ClickHouseException Error)>();
        foreach (var row in bad.Take(ExactReasons))
        {
            await CheckTimeAsync(token);
            try
            {
                _probes++;
                await _io.Probe([row], token);
                return false;
            }
            catch (ClickHouseException e) when (e.Kind == ClickHouseErrorKind.Data && e.RowNumber == 1 && !IsBlockLevel(e))
            {
                exact.Add((row, e));
            }
            catch (ClickHouseException e) when (e.Kind == ClickHouseErrorKind.Data)
            {
                // It parsed alone (the sentinel was named) or failed without naming it: not what was classified.
                return false;
            }
        }

        foreach (var (row, error) in exact)
        {
            _io.Reject(row, error);
        }

        var witness = exact.Count > 0 ? exact[0] : default;
        foreach (var row in bad.Skip(exact.Count))
        {
            _io.Reject(row, Reason(witness.Error!, _io.OffsetOf(witness.Row), bad.Count));
        }

        _scanRejected.AddRange(bad);
        _frontier = _unit.Count;
        candidates.Clear();
        candidates.AddRange(good);
        return true;
    }

    /// <summary>
    /// The reason of a row the classification found unparseable beyond the first <see cref="ExactReasons"/>: the
    /// engine's verdict for this row (it was skipped as a parse error), and the engine's message for the first such row
    /// of the unit, named by offset. The code is that row's: it is not claimed to be this row's message.
    /// </summary>
    private static ClickHouseException Reason(ClickHouseException witness, long witnessOffset, int badRows) =>
        new(
            string.Create(CultureInfo.InvariantCulture, $"the engine skipped this row as a parse error when asked which of the unit's rows parse ({badRows} did not); its message for the first of them (offset {witnessOffset}): {witness.Message}"),
            ClickHouseErrorKind.Data,
            witness.ServerCode);

    /// <summary>A probe of these rows names the sentinel: every row parses.</summary>
    private async Task<bool> ProbePassesAsync(List<int> rows, string token)
    {
        await CheckTimeAsync(token);
        try
        {
            _probes++;
            await _io.Probe(rows, token);
            return false;
        }
        catch (ClickHouseException e) when (e.Kind == ClickHouseErrorKind.Data)
        {
            return e.RowNumber == rows.Count + 1;
        }
    }

    /// <summary>Finds parse-level bad rows from <paramref name="cursor"/> on with probes that never land.</summary>
    private async Task ScanAsync(List<int> candidates, int cursor, string token)
    {
        var window = InitialWindow;
        while (cursor < candidates.Count)
        {
            _frontier = Math.Max(_frontier, PositionOf(candidates[cursor]));
            await CheckTimeAsync(token);
            var slice = candidates.GetRange(cursor, Math.Min(window, candidates.Count - cursor));
            try
            {
                _probes++;
                await _io.Probe(slice, token);

                // The sentinel did not fail (a front that skips bad lines): probing cannot tell anything here.
                return;
            }
            catch (ClickHouseException e) when (e.Kind == ClickHouseErrorKind.Data && e.RowNumber is { } m)
            {
                if (m == slice.Count + 1)
                {
                    cursor += slice.Count;
                    window = Math.Min(MaxWindow, window * 2);
                }
                else if (m >= 1 && m <= slice.Count)
                {
                    _scanRejected.Add(candidates[cursor + m - 1]);
                    Reject(candidates, cursor + m - 1, e);
                    cursor += m - 1;
                    window = Math.Clamp(2 * m, InitialWindow, MaxWindow);

                    // Many bad rows: one classification may save a probe per row (tried once per unit).
                    if (!_classified && _scanRejected.Count >= ClassifyAfter && candidates.Count - cursor >= ClassifyMinRows && _io.Classify is not null)
                    {
                        _classified = true;
                        if (await ClassifyAsync(candidates, token))
                        {
                            return;
                        }
                    }
                }
                else
                {
                    return;
                }
            }
            catch (ClickHouseException e) when (e.Kind == ClickHouseErrorKind.Data)
            {
                // A data error without a row: the final insert and halving deal with it.
                return;
            }
        }
    }

    /// <summary>The good rows as one block; block-level rejections are removed one by one, then by halving.</summary>
    private async Task<long> FinalAsync(List<int> candidates, string token)
    {
        var blockLevel = 0;
        while (candidates.Count > 0)
        {
            await CheckTimeAsync(token);
            try
            {
                _probes++;
                return await _io.Insert(candidates, token);
            }
            catch (ClickHouseException e) when (e.Kind == ClickHouseErrorKind.Data)
            {
                if (e.RowNumber is not { } n || n > candidates.Count || blockLevel >= BlockLevelRowLimit)
                {
                    // Once per unit: a second failure without a row after a dry run means the copy judged differently.
                    if (_io.DryRun is not null && !_dryRan)
                    {
                        _dryRan = true;
                        if (await _halving.DryAsync(candidates, token) is > 0)
                        {
                            continue;
                        }
                    }

                    return await _halving.InsertAsync(candidates, token);
                }

                if (IsBlockLevel(e))
                {
                    Reject(candidates, n - 1, e);
                    blockLevel++;
                }
                else
                {
                    // A parse error the scan did not reach (it stopped early): scan on from there.
                    _scanRejected.Add(candidates[n - 1]);
                    Reject(candidates, n - 1, e);
                    await ScanAsync(candidates, n - 1, token);
                    continue;
                }
            }
        }

        return 0;
    }

    private void Reject(List<int> candidates, int index, ClickHouseException e)
    {
        _io.Reject(candidates[index], e);
        candidates.RemoveAt(index);
    }

    private int PositionOf(int row)
    {
        var i = _unit.BinarySearch(row);
        return i >= 0 ? i : ~i;
    }

    /// <summary>Out of time: write what the probes found in finished chunks (the retry continues from there) and fail.</summary>
    private async Task CheckTimeAsync(string token)
    {
        if (_time.GetUtcNow() < _stopAt)
        {
            return;
        }

        var written = 0;
        var finishedChunks = _frontier / FlushChunk;
        if (finishedChunks > 0 && _scanRejected.Count > 0)
        {
            var unitFirst = _io.OffsetOf(_unit[0]);
            var unitLast = _io.OffsetOf(_unit[^1]);

            // Rows another attempt already dead-lettered (any reason) are left alone: never two copies.
            var present = await _io.MarkedDeadLetters(unitFirst, unitLast, string.Empty);
            foreach (var chunk in _scanRejected.GroupBy(r => PositionOf(r) / FlushChunk).Where(g => g.Key < finishedChunks).OrderBy(g => g.Key))
            {
                var offsets = chunk.Select(_io.OffsetOf).ToHashSet();
                if (offsets.Overlaps(present))
                {
                    continue;
                }

                written += await _io.FlushDeadLetters(offsets, ":chunk:" + chunk.Key.ToString(CultureInfo.InvariantCulture), MarkOf(token));
            }
        }

        throw new ClickHouseException(
            string.Create(CultureInfo.InvariantCulture, $"isolating the rows ClickHouse rejects did not finish before the deadline: {written} rejected rows dead-lettered so far after {Probes} requests; the redelivery continues from there"),
            ClickHouseErrorKind.Permanent);
    }

    private static bool IsBlockLevel(ClickHouseException e) =>
        e.ServerCode is { } code && ClickHouseErrors.BlockLevelDataCodes.Contains(code);
}
