namespace MskClickHouse.Core.Formats;

/// <summary>
/// A growable byte buffer the format transcoders write one JSON object into. Reused across records (one per
/// thread), so transcoding allocates only when a record is bigger than any before it.
/// </summary>
public sealed class JsonOutput
{
    private byte[] buffer;

    public JsonOutput(int initialCapacity = 4096) => buffer = new byte[Math.Max(initialCapacity, 64)];

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Written => buffer.AsSpan(0, Length);

    public void Reset() => Length = 0;

    /// <summary>At least <paramref name="bytes"/> free bytes at the end; write into them, then <see cref="Advance"/>.</summary>
    public Span<byte> Reserve(int bytes)
    {
        if (buffer.Length - Length < bytes)
        {
            Grow(bytes);
        }

        return buffer.AsSpan(Length);
    }

    public void Advance(int bytes) => Length += bytes;

    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (buffer.Length - Length < bytes.Length)
        {
            Grow(bytes.Length);
        }

        bytes.CopyTo(buffer.AsSpan(Length));
        Length += bytes.Length;
    }

    public void WriteByte(byte b)
    {
        if (Length == buffer.Length)
        {
            Grow(1);
        }

        buffer[Length++] = b;
    }

    /// <summary>Drops the last byte (e.g. a trailing comma).</summary>
    public byte Last => buffer[Length - 1];

    public void Truncate(int length) => Length = length;

    private void Grow(int bytes)
    {
        var size = (int)Math.Min(Math.Max((long)buffer.Length * 2, (long)Length + bytes), Array.MaxLength);
        if (size - Length < bytes)
        {
            throw new InsufficientMemoryException("a decoded record exceeds the largest buffer .NET can hold");
        }

        var bigger = new byte[size];
        buffer.AsSpan(0, Length).CopyTo(bigger);
        buffer = bigger;
    }
}
