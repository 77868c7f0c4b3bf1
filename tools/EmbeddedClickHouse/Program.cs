using System.Net;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using MskClickHouse.EmbeddedClickHouse;
using MskClickHouse.EmbeddedClickHouse.Chdb;
using MskClickHouse.EmbeddedClickHouse.Http;

ServerOptions options;
try
{
    options = ServerOptions.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return 64;
}

var libraryPath = ChdbLibrary.Resolve(options.LibraryPath);
try
{
    ChdbLibrary.Load(libraryPath);
}
catch (FileNotFoundException ex)
{
    await Console.Error.WriteLineAsync("embedded-clickhouse: " + ex.Message);
    return 2;
}

var ownsDataDirectory = options.DataDirectory is null;
var dataDirectory = options.DataDirectory ?? Directory.CreateTempSubdirectory("embedded-clickhouse-").FullName;
try
{
    using var engine = ChdbEngine.Open(dataDirectory);
    SessionBaseline baseline;
    using (var lease = await engine.AcquireAsync(CancellationToken.None))
    {
        baseline = SessionBaseline.Capture(lease);
    }

    var handler = new ClickHouseHttpHandler(
        engine, baseline, new Credentials(options.User, options.Password), options.Log ? Console.Error : null);

    var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = [] });
    builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
    {
        kestrel.AddServerHeader = false;
        kestrel.Limits.MaxRequestBodySize = null;
        kestrel.Listen(IPAddress.Loopback, options.Port);
    });
    await using var app = builder.Build();
    app.Run(handler.HandleAsync);

    var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        stop.TrySetResult();
    }

    using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
    using var sigquit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, OnSignal);
    if (options.ExitOnStdinClose)
    {
        // A parent that dies without killing us closes our stdin: do not outlive it.
        _ = Task.Run(async () =>
        {
            await Console.OpenStandardInput().CopyToAsync(Stream.Null);
            stop.TrySetResult();
        });
    }

    await app.StartAsync();
    var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    Console.Out.WriteLine($"listening http://127.0.0.1:{new Uri(address).Port}");
    Console.Out.Flush();

    await stop.Task;
    await app.StopAsync();
}
finally
{
    if (ownsDataDirectory)
    {
        Directory.Delete(dataDirectory, recursive: true);
    }
}

return 0;
