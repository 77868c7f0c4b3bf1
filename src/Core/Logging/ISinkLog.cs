
namespace MskClickHouse.Core.Logging;

/// <summary>
/// Where a log line is about: topic/partition/offset range and table, plus a few named values.
/// Only the fields that are set are written.
/// </summary>
public readonly record struct LogFields(
    string? Topic = null,
    int? Partition = null,
    long? Offset = null,
    long? LastOffset = null,
    string? Table = null,
    int? ErrorCode = null,
    IReadOnlyList<KeyValuePair<string, long>>? Numbers = null,
    IReadOnlyList<KeyValuePair<string, string>>? Strings = null);

/// <summary>Structured, Powertools-compatible logging: one JSON object per line.</summary>
public interface ISinkLog
{
    bool IsEnabled(LogLevel level);

    void Write(LogLevel level, string message, in LogFields fields = default, Exception? exception = null);
}
