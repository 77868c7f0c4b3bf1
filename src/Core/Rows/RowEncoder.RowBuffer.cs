using System.Buffers;

namespace MskClickHouse.Core.Rows;

public static partial class RowEncoder
{
    /// <summary>A growable buffer rented from the shared pool.</summary>
    private sealed class RowBuffer(int initialCapacity)
    {
        private byte[]? buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 256));

        public int Length { get; private set; }

        public Span<byte> Free => buffer.AsSpan(Length);

        public void Reserve(int bytes)
        {
            var b = buffer!;
            if (b.Length - Length >= bytes)
            {
                return;
            }

            var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max((long)b.Length * 2, (long)Length + bytes), Array.MaxLength));
            b.AsSpan(0, Length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(b);
            buffer = bigger;
        }

        public void Advance(int bytes) => Length += bytes;

        public byte[] Detach()
        {
            var b = buffer!;
            buffer = null;
            return b;
        }

        public void Release()
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = null;
            }
        }
    }
}
