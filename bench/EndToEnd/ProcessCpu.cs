using System.Globalization;
using System.Runtime.InteropServices;

namespace MskClickHouse.Bench.EndToEnd;

/// <summary>
/// CPU time (user + system, every thread, exited ones included) of another process, in ms: the process's CPU-time clock
/// (clock_getcpuclockid + clock_gettime, nanoseconds), or where that is refused utime + stime from /proc/PID/stat
/// (10 ms ticks: a 20–40 ms invocation reads as 2–4 ticks, so a mean of 7 moves in steps of 1.4 ms).
/// </summary>
internal static partial class ProcessCpu
{
    public static double Ms(int pid)
    {
        if (ClockGetCpuClockId(pid, out var clock) == 0 && ClockGetTime(clock, out var t) == 0)
        {
            return (t.Seconds * 1e3) + (t.Nanoseconds / 1e6);
        }

        return TicksMs(pid);
    }

    /// <summary>utime + stime from /proc/PID/stat, in ms (clock ticks of 10 ms).</summary>
    public static double TicksMs(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // After "pid (comm) ": state is field 3, utime field 14, stime field 15.
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks * 10.0;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_getcpuclockid")]
    private static partial int ClockGetCpuClockId(int pid, out int clockId);

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clockId, out Timespec time);
}
