using System.Globalization;
using System.Text.Json;

namespace MskClickHouse.Core.Logging;

/// <summary>What every log line says about the function, read once at start-up.</summary>
public sealed record JsonLogOptions
{
    public string Service { get; init; } = "service_undefined";

    public LogLevel MinimumLevel { get; init; } = LogLevel.Information;

    public string? FunctionName { get; init; }

    public string? FunctionMemorySize { get; init; }

    public string? FunctionVersion { get; init; }

    /// <summary>Service and level from the parsed options; function name, memory and version from Lambda's variables.</summary>
    public static JsonLogOptions From(string serviceName, LogLevel minimumLevel, IReadOnlyDictionary<string, string?> env) =>
        FromEnvironment(env) with { Service = serviceName, MinimumLevel = minimumLevel };

    /// <summary>
    /// For when the options could not be parsed (an init error): service from POWERTOOLS_SERVICE_NAME,
    /// Information level, and Lambda's function variables.
    /// </summary>
    public static JsonLogOptions FromEnvironment(IReadOnlyDictionary<string, string?> env)
    {
        ArgumentNullException.ThrowIfNull(env);
        return FromVariables(name => env.TryGetValue(name, out var v) ? v : null);
    }

    /// <summary>The same, read from the process environment (the runtime's log for a failed init, before any options).</summary>
    public static JsonLogOptions FromProcessEnvironment() => FromVariables(Environment.GetEnvironmentVariable);

    private static JsonLogOptions FromVariables(Func<string, string?> variable)
    {
        string? Get(string name) => variable(name) is { } v && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        return new JsonLogOptions
        {
            Service = Get("POWERTOOLS_SERVICE_NAME") ?? "msk-clickhouse",
            FunctionName = Get("AWS_LAMBDA_FUNCTION_NAME"),
            FunctionMemorySize = Get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
            FunctionVersion = Get("AWS_LAMBDA_FUNCTION_VERSION"),
        };
    }
}

/// <summary>
/// Powertools-compatible structured logging: one JSON object per line with Powertools' snake_case keys
/// (<c>level</c> named as Powertools names it, e.g. "Information"; <c>timestamp</c>, <c>service</c>,
/// <c>cold_start</c>, <c>function_*</c>, <c>xray_trace_id</c>), plus the sink's own fields.
/// Thread-safe. Never give it secrets: it writes what it is given.
/// </summary>
public sealed class JsonLog : ISinkLog, IInvocationObserver
{
    private readonly JsonLineWriter _output;
    private readonly JsonLogOptions _options;
    private readonly TimeProvider _time;
    private readonly long? _memorySize;
    private volatile CurrentInvocation? _current;

    public JsonLog(JsonLineWriter output, JsonLogOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        _output = output;
        _options = options;
        _time = time ?? TimeProvider.System;
        _memorySize = long.TryParse(options.FunctionMemorySize, NumberStyles.Integer, CultureInfo.InvariantCulture, out var mb) ? mb : null;
    }

    public LogLevel MinimumLevel => _options.MinimumLevel;

    public bool IsEnabled(LogLevel level) => level >= _options.MinimumLevel;

    public void InvocationStarted(InvocationContext context, bool coldStart)
    {
        ArgumentNullException.ThrowIfNull(context);
        _current = new CurrentInvocation(context, coldStart);
    }

    public void InvocationEnded(InvocationContext context) => _current = null;

    public void Write(LogLevel level, string message, in LogFields fields = default, Exception? exception = null)
    {
        if (!IsEnabled(level))
        {
            return;
        }

        var line = new Line(this, level, message, fields, exception, _time.GetUtcNow(), _current);
        _output.WriteLine(in line, WriteLine);
    }

    private static void WriteLine(Utf8JsonWriter w, in Line line)
    {
        var options = line.Log._options;
        w.WriteStartObject();
        w.WriteString("level", LevelName(line.Level));
        w.WriteString("message", line.Message);
        WriteTimestamp(w, "timestamp", line.Timestamp);
        w.WriteString("service", options.Service);
        if (line.Invocation is { } invocation)
        {
            w.WriteBoolean("cold_start", invocation.ColdStart);
        }

        if (options.FunctionName is not null)
        {
            w.WriteString("function_name", options.FunctionName);
        }

        if (options.FunctionVersion is not null)
        {
            w.WriteString("function_version", options.FunctionVersion);
        }

        if (line.Log._memorySize is { } memory)
        {
            w.WriteNumber("function_memory_size", memory);
        }

        if (line.Invocation is { } current)
        {
            w.WriteString("function_arn", current.Context.InvokedFunctionArn);
            w.WriteString("function_request_id", current.Context.RequestId);
            if (current.Context.TraceId is { } trace)
            {
                w.WriteString("xray_trace_id", XRayRoot(trace));
            }
        }

        WriteFields(w, line.Fields);
        if (line.Exception is not null)
        {
            w.WritePropertyName("exception");
            WriteException(w, line.Exception, depth: 0);
        }

        w.WriteEndObject();
    }

    private static void WriteFields(Utf8JsonWriter w, in LogFields f)
    {
        if (f.Topic is not null)
        {
            w.WriteString("topic", f.Topic);
        }

        if (f.Partition is { } partition)
        {
            w.WriteNumber("partition", partition);
        }

        if (f.Offset is { } offset)
        {
            w.WriteNumber("offset", offset);
        }

        if (f.LastOffset is { } last)
        {
            w.WriteNumber("last_offset", last);
        }

        if (f.Table is not null)
        {
            w.WriteString("table", f.Table);
        }

        if (f.ErrorCode is { } code)
        {
            w.WriteNumber("error_code", code);
        }

        if (f.Numbers is { } numbers)
        {
            for (var i = 0; i < numbers.Count; i++)
            {
                w.WriteNumber(numbers[i].Key, numbers[i].Value);
            }
        }

        if (f.Strings is { } strings)
        {
            for (var i = 0; i < strings.Count; i++)
            {
                w.WriteString(strings[i].Key, strings[i].Value);
            }
        }
    }

    private static void WriteException(Utf8JsonWriter w, Exception e, int depth)
    {
        w.WriteStartObject();
        w.WriteString("type", e.GetType().FullName);
        w.WriteString("message", e.Message);
        if (e.StackTrace is { } stack)
        {
            w.WriteString("stack_trace", stack);
        }

        if (e.InnerException is { } inner && depth < 4)
        {
            w.WritePropertyName("inner_exception");
            WriteException(w, inner, depth + 1);
        }

        w.WriteEndObject();
    }

    /// <summary>Powertools .NET writes the level as the LogLevel name: Trace, Debug, Information, Warning, Error, Critical.</summary>
    internal static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "Trace",
        LogLevel.Debug => "Debug",
        LogLevel.Information => "Information",
        LogLevel.Warning => "Warning",
        LogLevel.Error => "Error",
        LogLevel.Critical => "Critical",
        _ => "None",
    };

    /// <summary>ISO 8601 UTC with milliseconds, e.g. 2026-11-25T15:04:05.123Z.</summary>
    internal static void WriteTimestamp(Utf8JsonWriter w, string name, DateTimeOffset time)
    {
        Span<char> text = stackalloc char[24];
        time.UtcDateTime.TryFormat(text, out var written, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        w.WriteString(name, text[..written]);
    }

    /// <summary>Powertools logs the trace id's Root part (1-5759e988-bd862e3fe1be46a994272793).</summary>
    private static ReadOnlySpan<char> XRayRoot(string header)
    {
        var span = header.AsSpan();
        var root = span.IndexOf("Root=", StringComparison.Ordinal);
        if (root < 0)
        {
            return span;
        }

        span = span[(root + 5)..];
        var end = span.IndexOf(';');
        return end < 0 ? span : span[..end];
    }

    private sealed record CurrentInvocation(InvocationContext Context, bool ColdStart);

    private readonly record struct Line(
        JsonLog Log, LogLevel Level, string Message, LogFields Fields, Exception? Exception, DateTimeOffset Timestamp, CurrentInvocation? Invocation);
}
