using System.Diagnostics;
using MskClickHouse.Bench.EndToEnd;

namespace MskClickHouse.Bench.Tests;

/// <summary>The bootstrap's CPU is read from its process CPU-time clock: another process's, finer than the 10 ms ticks of /proc.</summary>
public sealed class ProcessCpuTests
{
    [Fact]
    public async Task Ms_OfAnotherProcess_AgreesWithItsTicksAndResolvesBelowATick()
    {
        var ct = TestContext.Current.CancellationToken;
        using var busy = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; sleep 30"]))!;
        try
        {
            // Wait until the loop is over (the shell sleeps: its CPU time stops moving).
            double last = -1, now = ProcessCpu.Ms(busy.Id);
            while (now != last)
            {
                await Task.Delay(300, ct);
                (last, now) = (now, ProcessCpu.Ms(busy.Id));
            }

            var ticks = ProcessCpu.TicksMs(busy.Id);
            Assert.True(now > 20, $"the loop took {now} ms of CPU");
            Assert.InRange(now, ticks - 30, ticks + 30);
            Assert.NotEqual(0, now % 10, 3); // not a whole number of 10 ms ticks: the clock is the fine one
        }
        finally
        {
            busy.Kill();
            await busy.WaitForExitAsync(ct);
        }
    }
}
