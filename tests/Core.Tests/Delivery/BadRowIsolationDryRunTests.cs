using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Delivery;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>
/// Which tokens <see cref="BadRowIsolation"/> lands rows under when the server names no row: only the unit's own with a
/// dry run, sub-tokens only in the fallback. Pure: the server is a function of the rows (row 5 is rejected, no row named).
/// </summary>
public class BadRowIsolationDryRunTests
{
    private const string Token = "sink:src:orders:0:0-7~n";
    private const int Bad = 5;

    private sealed class FakeServer
    {
        public List<string> LandedUnder { get; } = [];

        public List<int> Rejected { get; } = [];

        public int DryRuns { get; private set; }

        public Task<long> Insert(List<int> rows, string token)
        {
            if (rows.Contains(Bad))
            {
                throw new ClickHouseException("seven: while executing 'FUNCTION throwIf(...)'", ClickHouseErrorKind.Data, 395);
            }

            LandedUnder.Add(token);
            return Task.FromResult((long)rows.Count);
        }

        public Task<bool> DryRun(List<int> rows)
        {
            DryRuns++;
            return rows.Contains(Bad) ? throw new ClickHouseException("seven (found by a dry run)", ClickHouseErrorKind.Data, 395) : Task.FromResult(true);
        }

        public IsolationIo Io(Func<List<int>, Task<bool>>? dryRun) => new(
            Insert,
            (_, _) => throw new InvalidOperationException("no probe expected: the error is block-level"),
            (row, _) => Rejected.Add(row),
            row => row,
            (_, _, _) => Task.FromResult(new HashSet<long>()),
            (_, _, _) => Task.FromResult(0),
            DryRun: dryRun);
    }

    private static async Task<(FakeServer Server, BadRowIsolation Isolation, long Written)> RunAsync(Func<FakeServer, Func<List<int>, Task<bool>>?> dryRun)
    {
        var server = new FakeServer();
        var isolation = new BadRowIsolation(server.Io(dryRun(server)), TimeProvider.System, DateTimeOffset.UtcNow.AddMinutes(1));
        var written = await isolation.InsertAsync([0, 1, 2, 3, 4, 5, 6, 7], Token, new ClickHouseException("seven", ClickHouseErrorKind.Data, 395));
        return (server, isolation, written);
    }

    [Fact]
    public async Task Insert_NoRowNamed_WithADryRun_LandsTheGoodRowsUnderTheUnitTokenOnly()
    {
        var (server, isolation, written) = await RunAsync(s => s.DryRun);

        Assert.Equal(7, written);
        Assert.Equal([Bad], server.Rejected);
        Assert.Equal([Token], server.LandedUnder);
        Assert.Equal(0, isolation.SubTokenHalves);
        Assert.InRange(server.DryRuns, 2, 2 * 3 + 1);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Insert_NoRowNamed_WithoutADryRunCopy_FallsBackToHalvesUnderSubTokens(bool delegateMissing)
    {
        var (server, isolation, written) = await RunAsync(s => delegateMissing ? null : _ => Task.FromResult(false));

        Assert.Equal(7, written);
        Assert.Equal([Bad], server.Rejected);
        Assert.DoesNotContain(Token, server.LandedUnder);
        Assert.All(server.LandedUnder, t => Assert.StartsWith(Token + "/", t, StringComparison.Ordinal));
        Assert.True(isolation.SubTokenHalves > 0);
    }

    [Fact]
    public async Task Insert_DryRunCopyAcceptsWhatTheTableRejects_FallsBackInsteadOfLooping()
    {
        var (server, isolation, written) = await RunAsync(_ => _ => Task.FromResult(true));

        Assert.Equal(7, written);
        Assert.Equal([Bad], server.Rejected);
        Assert.True(isolation.SubTokenHalves > 0);
    }
}
