using System.Runtime.InteropServices;
using MskClickHouse.Core.Errors;
using MskClickHouse.Core.Logging;

namespace MskClickHouse.Core.Runtime;

/// <summary>What init builds: the handler, the log the loop reports to, and who is told of each invocation.</summary>
public sealed record LambdaApplication(IInvocationHandler Handler, ISinkLog Log, IReadOnlyList<IInvocationObserver> Observers);

/// <summary>How <see cref="LambdaBootstrap.RunAsync"/> runs; every member has a production default.</summary>
public sealed record LambdaBootstrapOptions
{
    /// <summary>The Runtime API; by default a <see cref="RuntimeApiClient"/> from AWS_LAMBDA_RUNTIME_API.</summary>
    public IRuntimeApi? RuntimeApi { get; init; }

    /// <summary>Where init failures are logged when init did not get as far as building its log; by default stdout.</summary>
    public Func<ISinkLog>? FallbackLog { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    public TimeSpan DeadlineMargin { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>SIGTERM (and SIGINT) stop the loop; the process then exits 0.</summary>
    public bool StopOnSigterm { get; init; } = true;
}

/// <summary>
/// The program's whole life: init, then the invocation loop. If init throws, its message goes to
/// POST /runtime/init/error (a <see cref="ConfigurationException"/> names the variable) and the process exits 1.
/// </summary>
public static class LambdaBootstrap
{
    public const int ExitOk = 0;
    public const int ExitInitFailed = 1;
    public const int ExitRuntimeApiFailed = 2;

    public static async Task<int> RunAsync(
        Func<CancellationToken, Task<LambdaApplication>> init,
        LambdaBootstrapOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(init);
        options ??= new LambdaBootstrapOptions();
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigterm = options.StopOnSigterm ? Register(PosixSignal.SIGTERM, stopping) : null;
        using var sigint = options.StopOnSigterm ? Register(PosixSignal.SIGINT, stopping) : null;

        RuntimeApiClient? ownedApi = null;
        if (options.RuntimeApi is null)
        {
            try
            {
                ownedApi = RuntimeApiClient.FromEnvironment();
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException)
            {
                // No Runtime API to report to: say so where a person running the binary by hand will see it.
                (options.FallbackLog ?? DefaultFallbackLog)().Write(LogLevel.Critical, e.Message, exception: e);
                return ExitRuntimeApiFailed;
            }
        }

        var api = options.RuntimeApi ?? ownedApi!;
        try
        {
            LambdaApplication app;
            try
            {
                app = await init(stopping.Token);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stopping.IsCancellationRequested)
            {
                var log = (options.FallbackLog ?? DefaultFallbackLog)();
                log.Write(LogLevel.Critical, $"Init failed: {e.Message}", exception: e);
                try
                {
                    await api.PostInitErrorAsync(InitError(e), stopping.Token);
                }
                catch (Exception postError) when (postError is RuntimeApiException or HttpRequestException or OperationCanceledException)
                {
                    log.Write(LogLevel.Critical, "Could not report the init error to the Runtime API", exception: postError);
                }

                return ExitInitFailed;
            }

            var loop = new LambdaRuntimeLoop(api, app.Handler, app.Log, options.Time, new LambdaRuntimeLoopOptions
            {
                DeadlineMargin = options.DeadlineMargin,
                Observers = app.Observers,
            });
            try
            {
                await loop.RunAsync(stopping.Token);
                app.Log.Write(LogLevel.Information, "Stopping: shutdown requested");
                return ExitOk;
            }
            catch (Exception e) when (e is RuntimeApiException or HttpRequestException)
            {
                app.Log.Write(LogLevel.Critical, "The Runtime API failed; exiting so that Lambda starts a fresh environment", exception: e);
                return ExitRuntimeApiFailed;
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return ExitOk;
        }
        finally
        {
            ownedApi?.Dispose();
        }
    }

    /// <summary>The init error document: errorType is the exception type; a configuration error says which variable.</summary>
    public static RuntimeError InitError(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var error = RuntimeError.FromException(e);
        return e is ConfigurationException config
            ? error with { ErrorMessage = $"Configuration error in {config.Variable}: {e.Message}" }
            : error;
    }

    private static ISinkLog DefaultFallbackLog()
    {
        return new JsonLog(JsonLineWriter.StandardOutput(), JsonLogOptions.FromProcessEnvironment());
    }

    private static PosixSignalRegistration? Register(PosixSignal signal, CancellationTokenSource stopping)
    {
        try
        {
            return PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                stopping.Cancel();
            });
        }
        catch (PlatformNotSupportedException)
        {
            return null;
        }
    }
}
