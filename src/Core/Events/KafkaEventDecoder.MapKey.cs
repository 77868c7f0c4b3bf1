using System.Buffers.Text;
using System.Text;

namespace MskClickHouse.Core.Events;

public static partial class KafkaEventDecoder
{
    /// <summary>A key of the <c>records</c> map: its place in the payload, and its text when it had escapes.</summary>
    private struct MapKey
    {
        private readonly string? unescaped;
        private readonly int start;
        private readonly int length;
        private string? text;

        public MapKey(string? unescaped, int start, int length)
        {
            this.unescaped = unescaped;
            this.start = start;
            this.length = length;
            text = unescaped;
        }

        public string ToString(ReadOnlySpan<byte> payload) => text ??= Encoding.UTF8.GetString(payload.Slice(start, length));

        public readonly ReadOnlySpan<byte> Utf8(ReadOnlySpan<byte> payload) =>
            unescaped is null ? payload.Slice(start, length) : Encoding.UTF8.GetBytes(unescaped);

        /// <summary>Splits "topic-partition" at the last '-'.</summary>
        public readonly bool TrySplit(ReadOnlySpan<byte> payload, out ReadOnlySpan<byte> topic, out int partition)
        {
            var bytes = Utf8(payload);
            var dash = bytes.LastIndexOf((byte)'-');
            partition = 0;
            topic = default;
            if (dash <= 0 || !Utf8Parser.TryParse(bytes[(dash + 1)..], out partition, out var consumed) || consumed != bytes.Length - dash - 1 || partition < 0)
            {
                return false;
            }

            topic = bytes[..dash];
            return true;
        }
    }
}
