namespace MskClickHouse.Core.Formats.Framing;

/// <summary>
/// The message-index list Confluent's Protobuf serializer writes after the schema id: which message of the schema
/// the payload is. A zigzag varint count, then that many zigzag varint indexes (the path through nested messages);
/// the single byte <c>0x00</c> (count 0) means the first message of the file, i.e. the path [0].
/// </summary>
public static class ConfluentMessageIndexes
{
    /// <summary>Longest index path accepted (nesting depth); longer lists are taken as corrupt framing.</summary>
    public const int MaxDepth = 32;

    /// <summary>
    /// Reads the list at the start of <paramref name="payload"/> into <paramref name="path"/>. Returns null on success
    /// (with the path length and the bytes consumed), else why the list is not valid.
    /// </summary>
    public static string? TryRead(ReadOnlySpan<byte> payload, Span<int> path, out int depth, out int consumed)
    {
        depth = 0;
        consumed = 0;
        if (!TryZigZag(payload, ref consumed, out var count))
        {
            return "Confluent Protobuf framing: the message-index count is not a valid varint";
        }

        if (count == 0)
        {
            path[0] = 0;
            depth = 1;
            return null;
        }

        if (count < 0 || count > MaxDepth || count > path.Length)
        {
            return $"Confluent Protobuf framing: message-index count {count} is out of 0..{MaxDepth}";
        }

        for (var i = 0; i < count; i++)
        {
            if (!TryZigZag(payload, ref consumed, out var index) || index < 0)
            {
                return $"Confluent Protobuf framing: message index {i} is not a non-negative varint";
            }

            path[i] = (int)Math.Min(index, int.MaxValue);
        }

        depth = (int)count;
        return null;
    }

    private static bool TryZigZag(ReadOnlySpan<byte> data, ref int at, out long value)
    {
        ulong raw = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (at >= data.Length)
            {
                value = 0;
                return false;
            }

            var b = data[at++];
            raw |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                value = (long)(raw >> 1) ^ -(long)(raw & 1);
                return true;
            }
        }

        value = 0;
        return false;
    }
}
