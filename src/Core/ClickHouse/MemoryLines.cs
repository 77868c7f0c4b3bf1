namespace MskClickHouse.Core.ClickHouse;

/// <summary>The lines of a text answer (TSV, JSONEachRow) as slices of its bytes.</summary>
internal static class MemoryLines
{
    /// <summary>Non-empty '\n'-separated lines.</summary>
    public static IEnumerable<ReadOnlyMemory<byte>> Split(this ReadOnlyMemory<byte> text)
    {
        while (!text.IsEmpty)
        {
            var i = text.Span.IndexOf((byte)'\n');
            var line = i < 0 ? text : text[..i];
            text = i < 0 ? ReadOnlyMemory<byte>.Empty : text[(i + 1)..];
            if (!line.Span.Trim((byte)' ').IsEmpty)
            {
                yield return line;
            }
        }
    }
}
