using System.Text.Json;

namespace MskClickHouse.LocalRun;

/// <summary>MSK events from files: --events FILE... or, by default, the public samples in events/*.json.</summary>
internal static class EventFiles
{
    /// <summary>Reads and validates every file; the default sample set comes back in order of its lowest offset.</summary>
    public static List<byte[]> Load(IReadOnlyList<string> eventFiles, string root)
    {
        var files = eventFiles.Count > 0
            ? eventFiles
            : Directory.Exists(Path.Combine(root, "events")) ? [.. Directory.EnumerateFiles(Path.Combine(root, "events"), "*.json").Order(StringComparer.Ordinal)] : [];
        if (files.Count == 0)
        {
            throw new LocalRunException("no events: events/*.json is empty; pass --events FILE... or --generate N");
        }

        var batches = new List<byte[]>();
        foreach (var file in files)
        {
            if (!File.Exists(file))
            {
                throw new LocalRunException($"event file '{file}' does not exist");
            }

            var bytes = File.ReadAllBytes(file);
            Validate(file, bytes);
            batches.Add(bytes);
        }

        if (eventFiles.Count == 0)
        {
            // The public samples all claim mytopic partition 0 with overlapping offsets; a mapping delivers each
            // partition in offset order, so the default set goes in order of its lowest offset (stable).
            batches = [.. batches.OrderBy(MinOffset)];
        }

        return batches;
    }

    /// <summary>An MSK event: a "records" object of partitions, each an array of records that name their topic.</summary>
    private static void Validate(string file, byte[] bytes)
    {
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("records", out var records) || records.ValueKind != JsonValueKind.Object)
            {
                throw new LocalRunException($"event file '{file}' is not an MSK event: no \"records\" object");
            }

            foreach (var partition in records.EnumerateObject())
            {
                foreach (var record in partition.Value.EnumerateArray())
                {
                    _ = record.GetProperty("topic").GetString();
                }
            }
        }
        catch (JsonException e)
        {
            throw new LocalRunException($"event file '{file}' is not valid JSON: {e.Message}");
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException)
        {
            throw new LocalRunException($"event file '{file}' is not an MSK event: {e.Message}");
        }
    }

    private static long MinOffset(byte[] payload)
    {
        using var doc = JsonDocument.Parse(payload);
        return doc.RootElement.GetProperty("records").EnumerateObject().SelectMany(p => p.Value.EnumerateArray()).Select(r => r.GetProperty("offset").GetInt64()).DefaultIfEmpty(0).Min();
    }
}
