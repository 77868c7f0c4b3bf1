using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace MskClickHouse.RuntimeApiEmulator;

/// <summary>How the emulated Lambda service behaves.</summary>
public sealed record RuntimeApiEmulatorOptions
{
    /// <summary>The function timeout: each invocation's Lambda-Runtime-Deadline-Ms is the time /next served it plus this.</summary>
    public TimeSpan FunctionTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public string FunctionArn { get; init; } = "arn:aws:lambda:eu-west-1:123456789012:function:msk-clickhouse-sink";

    /// <summary>Lambda refuses responses over 6 MB with 413; so does the emulator.</summary>
    public int MaxResponseBytes { get; init; } = 6 * 1024 * 1024;

    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>How one invocation ended: the response, or the error document and its Lambda-Runtime-Function-Error-Type.</summary>
public sealed record InvocationResult(
    string RequestId,
    bool Success,
    byte[] Body,
    string? ErrorType,
    string? TraceId,
    DateTimeOffset EnqueuedAt,
    DateTimeOffset NextServedAt,
    DateTimeOffset CompletedAt,
    long NextServedTimestamp,
    long CompletedTimestamp)
{
    public string BodyText => Encoding.UTF8.GetString(Body);

    /// <summary>The invocation's time in ms: /next served it → its response (or error) was posted; queueing not included.</summary>
    public double LatencyMs => (CompletedTimestamp - NextServedTimestamp) * 1000.0 / Stopwatch.Frequency;

    /// <summary>errorMessage of the error document (null for a success or a body that is not one).</summary>
    public string? ErrorMessage => Success ? null : ErrorDocument.MessageOf(Body);
}

/// <summary>A POST /runtime/init/error.</summary>
public sealed record InitErrorReport(string? ErrorType, byte[] Body, DateTimeOffset ReceivedAt, long ReceivedTimestamp)
{
    public string BodyText => Encoding.UTF8.GetString(Body);

    public string? ErrorMessage => ErrorDocument.MessageOf(Body);
}

internal static class ErrorDocument
{
    public static string? MessageOf(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("errorMessage", out var m)
                ? m.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
