using MskClickHouse.Bench.EndToEnd;

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};
return await BenchRunner.RunAsync(args, Console.Out, Console.Error, cts.Token);
