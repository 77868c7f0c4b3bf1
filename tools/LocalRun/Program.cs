namespace MskClickHouse.LocalRun;

internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        return await LocalRunner.RunAsync(args, Console.Out, Console.Error, cts.Token);
    }
}
