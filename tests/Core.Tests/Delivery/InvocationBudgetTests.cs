using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Logging;

namespace MskClickHouse.Core.Tests.Delivery;

public class InvocationBudgetTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void FromDeadline_PhasesEndAtGiveUpHalfWayAndThreeQuartersToTheDeadline()
    {
        using var budget = InvocationBudget.FromDeadline(Now + TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(4), new FixedTime(Now), CancellationToken.None);

        Assert.Equal(Now + TimeSpan.FromSeconds(56), budget.GiveUpAt);
        Assert.Equal(Now + TimeSpan.FromSeconds(58), budget.MarkBy);
        Assert.Equal(Now + TimeSpan.FromSeconds(59), budget.ReportBy);
        Assert.False(budget.IsSpent);
        Assert.False(budget.Work.IsCancellationRequested);
    }

    [Fact]
    public void FromDeadline_DeadlinePassed_EveryPhaseIsCancelled()
    {
        using var budget = InvocationBudget.FromDeadline(Now - TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3), new FixedTime(Now), CancellationToken.None);

        Assert.True(budget.IsSpent);
        Assert.True(budget.Work.IsCancellationRequested);
        Assert.True(budget.Marking.IsCancellationRequested);
        Assert.True(budget.Reporting.IsCancellationRequested);
    }

    [Fact]
    public void FromDeadline_InvocationCancelled_CancelsEveryPhase()
    {
        using var invocation = new CancellationTokenSource();
        using var budget = InvocationBudget.FromDeadline(Now + TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(3), new FixedTime(Now), invocation.Token);

        invocation.Cancel();

        Assert.True(budget.Work.IsCancellationRequested && budget.Marking.IsCancellationRequested && budget.Reporting.IsCancellationRequested);
    }

    [Theory]
    [InlineData(60, 2000)] // plenty left: 2 s reserved for the dead letters
    [InlineData(4, 750)] // 3 s left before giving up: a quarter of it
    public void IsolationStopAt_ReservesAQuarterOfWhatIsLeftAtMostTwoSeconds(int deadlineSeconds, int reservedMs)
    {
        using var budget = InvocationBudget.FromDeadline(Now + TimeSpan.FromSeconds(deadlineSeconds), TimeSpan.FromSeconds(1), new FixedTime(Now), CancellationToken.None);

        Assert.Equal(budget.GiveUpAt - TimeSpan.FromMilliseconds(reservedMs), budget.IsolationStopAt);
    }

    [Fact]
    public void StartUp_RetriesForTheSpanWithoutCuttingARequest()
    {
        using var budget = InvocationBudget.StartUp(TimeSpan.FromSeconds(10), new FixedTime(Now), CancellationToken.None);

        Assert.Equal(Now + TimeSpan.FromSeconds(10), budget.GiveUpAt);
        Assert.False(budget.Work.CanBeCanceled);
    }
}

public class RetrierTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task RunAsync_TransientFailures_RetriedAndLoggedWithWhatTheCallIsAbout()
    {
        using var budget = InvocationBudget.FromDeadline(Now + TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(3), new FixedTime(Now), CancellationToken.None);
        var log = new RecordingLog();
        var retrier = new Retrier(budget, log, () => 0).About(new LogFields("orders", 3, Table: "db.t"));
        var calls = 0;

        var answer = await retrier.RunAsync(_ => ++calls < 3 ? throw new ClickHouseException("overloaded", ClickHouseErrorKind.Transient, 202) : Task.FromResult(42));

        Assert.Equal(42, answer);
        Assert.Equal(3, calls);
        Assert.Equal([1L, 2L], log.Lines.Select(l => l.Fields.Numbers!.Single(n => n.Key == "attempt").Value));
        Assert.All(log.Lines, l => Assert.Equal(("orders", 3, "db.t", 202), (l.Fields.Topic, l.Fields.Partition!.Value, l.Fields.Table, l.Fields.ErrorCode!.Value)));
    }

    [Fact]
    public async Task RunAsync_WaitWouldEndAfterThePhase_ThrowsTheFailureWithoutRetrying()
    {
        using var budget = InvocationBudget.FromDeadline(Now + TimeSpan.FromMilliseconds(40), TimeSpan.FromSeconds(3), new FixedTime(Now), CancellationToken.None);
        var log = new RecordingLog();
        var calls = 0;

        await Assert.ThrowsAsync<ClickHouseException>(() => new Retrier(budget, log, () => 1).RunAsync(_ => { calls++; throw new ClickHouseException("overloaded", ClickHouseErrorKind.Transient); }));

        Assert.Equal(1, calls);
        Assert.Empty(log.Lines);
    }

    [Fact]
    public async Task RunAsync_DataError_NotRetried()
    {
        using var budget = InvocationBudget.FromDeadline(Now + TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(3), new FixedTime(Now), CancellationToken.None);
        var calls = 0;

        await Assert.ThrowsAsync<ClickHouseException>(() => new Retrier(budget, new RecordingLog(), () => 0).RunAsync(_ => { calls++; throw new ClickHouseException("bad row", ClickHouseErrorKind.Data, 27); }));

        Assert.Equal(1, calls);
    }
}
