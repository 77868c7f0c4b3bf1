using System.Text.Json;

namespace MskClickHouse.DevHarness;

/// <summary>
/// The function's answer to an MSK event, as the event-source mapping reads it:
/// <c>{"batchItemFailures":[{"itemIdentifier":{"topic-partition":"orders-0","offset":15}}]}</c>; empty when every
/// record is done.
/// </summary>
public static class BatchItemFailures
{
    /// <summary>The answer of an invocation that left nothing to retry.</summary>
    public const string None = """{"batchItemFailures":[]}""";

    /// <summary>The (map key, offset) of every failed partition, in answer order; empty for an answer without the property.</summary>
    public static List<(string MapKey, long Offset)> Parse(ReadOnlySpan<byte> answer)
    {
        var reader = new Utf8JsonReader(answer);
        using var doc = JsonDocument.ParseValue(ref reader);
        return doc.RootElement.TryGetProperty("batchItemFailures", out var failures)
            ? [.. failures.EnumerateArray().Select(f => f.GetProperty("itemIdentifier")).Select(i => (i.GetProperty("topic-partition").GetString()!, i.GetProperty("offset").GetInt64()))]
            : [];
    }
}
