using System.Text;
using System.Text.Json;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Runtime;

namespace MskClickHouse.Core.Tests;

/// <summary>A clock that says what it is told.</summary>
internal sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>A JsonLineWriter over memory, and the lines it wrote, parsed.</summary>
internal sealed class CapturedOutput : IDisposable
{
    private readonly MemoryStream _stream = new();

    public CapturedOutput() => Writer = new JsonLineWriter(_stream);

    public JsonLineWriter Writer { get; }

    public string Text => Encoding.UTF8.GetString(_stream.ToArray());

    public IReadOnlyList<string> Lines => Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public IReadOnlyList<JsonElement> Json => [.. Lines.Select(l => JsonDocument.Parse(l).RootElement.Clone())];

    public void Dispose()
    {
        Writer.Dispose();
        _stream.Dispose();
    }
}

/// <summary>Remembers what was logged.</summary>
internal sealed class ListLog : ISinkLog, IInvocationObserver
{
    private readonly Lock _gate = new();

    public List<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = [];

    public List<(string RequestId, bool ColdStart)> Started { get; } = [];

    public bool IsEnabled(LogLevel level) => true;

    public void Write(LogLevel level, string message, in LogFields fields = default, Exception? exception = null)
    {
        lock (_gate)
        {
            Entries.Add((level, message, exception));
        }
    }

    public void InvocationStarted(InvocationContext context, bool coldStart) => Started.Add((context.RequestId, coldStart));

    public void InvocationEnded(InvocationContext context)
    {
    }
}

/// <summary>An invocation handler made of a function.</summary>
internal sealed class DelegateHandler(Func<InvocationContext, ReadOnlyMemory<byte>, CancellationToken, Task<byte[]>> handle) : IInvocationHandler
{
    public Task<byte[]> HandleAsync(InvocationContext context, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
        handle(context, payload, cancellationToken);
}
