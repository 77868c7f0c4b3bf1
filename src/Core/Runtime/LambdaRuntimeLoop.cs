using MskClickHouse.Core.Logging;





namespace MskClickHouse.Core.Runtime;

/// <summary>How the loop runs invocations.</summary>
public sealed record LambdaRuntimeLoopOptions
{
    /// <summary>The handler's token fires this long before the invocation deadline, leaving time to post the answer.</summary>
    public TimeSpan DeadlineMargin { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Told of each invocation's start and end (the log and the metrics sink, so lines carry the request id).</summary>
    public IReadOnlyList<IInvocationObserver> Observers { get; init; } = [];

    /// <summary>Sets _X_AMZN_TRACE_ID from the trace header, as Lambda's managed runtimes do (the X-Ray SDKs read it).</summary>
    public bool SetTraceIdEnvironmentVariable { get; init; } = true;
}

/// <summary>
/// The Runtime API loop, as RuntimeSupport runs it: next → context → handler → response (or error), forever.
/// A handler failure becomes an /error post and a log line; it never ends the loop.
/// The loop ends when its token is cancelled (SIGTERM) or when the Runtime API itself fails.
/// </summary>
public sealed class LambdaRuntimeLoop
{
    public const string TraceIdVariable = "_X_AMZN_TRACE_ID";

    private readonly IRuntimeApi _api;
    private readonly IInvocationHandler _handler;
    private readonly ISinkLog _log;
    private readonly TimeProvider _time;
    private readonly LambdaRuntimeLoopOptions _options;
    private bool _coldStart = true;

    public LambdaRuntimeLoop(IRuntimeApi api, IInvocationHandler handler, ISinkLog log, TimeProvider? time = null, LambdaRuntimeLoopOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(log);
        _api = api;
        _handler = handler;
        _log = log;
        _time = time ?? TimeProvider.System;
        _options = options ?? new LambdaRuntimeLoopOptions();
    }

    /// <summary>Invocations handled so far (successful or not).</summary>
    public long InvocationCount { get; private set; }

    /// <summary>Runs until <paramref name="stopping"/> is cancelled; a Runtime API failure is thrown.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
        }
    }

    /// <summary>Fetches one invocation, handles it and posts its answer.</summary>
    public async Task RunOnceAsync(CancellationToken stopping)
    {
        var invocation = await _api.GetNextInvocationAsync(stopping);
        var context = invocation.Context;
        if (_options.SetTraceIdEnvironmentVariable)
        {
            Environment.SetEnvironmentVariable(TraceIdVariable, context.TraceId);
        }

        var coldStart = _coldStart;
        _coldStart = false;
        InvocationCount++;
        foreach (var observer in _options.Observers)
        {
            observer.InvocationStarted(context, coldStart);
        }

        try
        {
            byte[] response;
            using (var deadline = DeadlineSource(context, stopping))
            {
                try
                {
                    response = await _handler.HandleAsync(context, invocation.Payload, deadline.Token);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    await ReportFailureAsync(context, e, deadline.IsCancellationRequested && !stopping.IsCancellationRequested, stopping);
                    return;
                }
            }

            try
            {
                await _api.PostResponseAsync(context.RequestId, response, stopping);
            }
            catch (RuntimeApiException e)
            {
                // E.g. 413 for a response over 6 MB: the invocation fails, the environment lives on.
                _log.Write(LogLevel.Error, "The Runtime API refused the invocation response", exception: e);
                await ReportFailureAsync(context, e, timedOut: false, stopping);
            }
        }
        finally
        {
            foreach (var observer in _options.Observers)
            {
                observer.InvocationEnded(context);
            }
        }
    }

    private CancellationTokenSource DeadlineSource(InvocationContext context, CancellationToken stopping)
    {
        var remaining = context.Deadline - _time.GetUtcNow() - _options.DeadlineMargin;
        var source = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        if (remaining <= TimeSpan.Zero)
        {
            source.Cancel();
        }
        else
        {
            source.CancelAfter(remaining);
        }

        return source;
    }

    private async Task ReportFailureAsync(InvocationContext context, Exception e, bool timedOut, CancellationToken stopping)
    {
        var message = timedOut ? "The invocation ran out of time and failed" : "The invocation failed";
        _log.Write(LogLevel.Error, message, exception: e);
        try
        {
            await _api.PostInvocationErrorAsync(context.RequestId, RuntimeError.FromException(e), stopping);
        }
        catch (RuntimeApiException postError)
        {
            _log.Write(LogLevel.Error, "The Runtime API refused the invocation error", exception: postError);
        }
    }
}
