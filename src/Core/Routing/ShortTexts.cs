using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MskClickHouse.Core.Routing;

/// <summary>
/// Compared texts of at most 16 bytes, each kept as two 64-bit words in a slot of its own (a multiplicative hash
/// chosen when the table is built so that no two texts share a slot): a lookup is two loads, a multiply and one
/// compare, with no probe loop and no branch on the text's bytes (a routed field is as random as the events it names).
/// </summary>
internal sealed class ShortTexts
{
    /// <summary>The longest text kept.</summary>
    public const int MaxLength = 16;

    /// <summary>The most texts kept: a table is built once per added text, at start-up.</summary>
    public const int MaxTexts = 16;

    private const int MaxBits = 7;

    private readonly Entry[] slots;
    private readonly ulong multiplier;
    private readonly int shift;

    private ShortTexts(Entry[] slots, ulong multiplier, int shift)
    {
        this.slots = slots;
        this.multiplier = multiplier;
        this.shift = shift;
    }

    /// <summary>
    /// The table of <paramref name="texts"/>; null when there are more than <see cref="MaxTexts"/>, one is longer than
    /// <see cref="MaxLength"/>, or no layout was found.
    /// </summary>
    public static ShortTexts? Create(IReadOnlyDictionary<byte[], int[]> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count > MaxTexts || texts.Keys.Any(t => t.Length > MaxLength))
        {
            return null;
        }

        var words = texts.Select(t => (Words: WordsOf(t.Key, 0, t.Key.Length), Length: t.Key.Length, Tables: t.Value)).ToList();
        var candidate = 0x9E3779B97F4A7C15UL;
        for (var bits = Math.Max(2, BitsFor(texts.Count)); bits <= MaxBits; bits++)
        {
            for (var attempt = 0; attempt < 256; attempt++)
            {
                candidate = (candidate * 6364136223846793005UL) + 1442695040888963407UL;
                var multiplier = candidate | 1;
                var shift = 64 - bits;
                var slots = new Entry[1 << bits];
                Array.Fill(slots, Entry.Free);
                var placed = true;
                foreach (var (w, length, tables) in words)
                {
                    ref var slot = ref slots[SlotOf(w.Lo, w.Hi, length, multiplier, shift)];
                    if (slot.Length >= 0)
                    {
                        placed = false;
                        break;
                    }

                    slot = new Entry(w.Lo, w.Hi, length, tables);
                }

                if (placed)
                {
                    return new ShortTexts(slots, multiplier, shift);
                }
            }
        }

        return null;
    }

    /// <summary>
    /// The tables of the <paramref name="length"/> bytes at <paramref name="start"/> of <paramref name="buffer"/>; empty
    /// when none. The 16 bytes from <paramref name="start"/> are read when the buffer holds them.
    /// </summary>
    public ReadOnlySpan<int> Of(ReadOnlySpan<byte> buffer, int start, int length)
    {
        if ((uint)length > MaxLength)
        {
            return [];
        }

        var (lo, hi) = WordsOf(buffer, start, length);
        ref readonly var slot = ref slots[SlotOf(lo, hi, length, multiplier, shift)];
        return (slot.Lo == lo) & (slot.Hi == hi) & (slot.Length == length) ? slot.Tables : [];
    }

    private static int SlotOf(ulong lo, ulong hi, int length, ulong multiplier, int shift) =>
        (int)(((lo ^ (hi * 0xC2B2AE3D27D4EB4FUL) ^ (uint)length) * multiplier) >> shift);

    /// <summary>The text's bytes as two little-endian words, zero past its end.</summary>
    private static (ulong Lo, ulong Hi) WordsOf(ReadOnlySpan<byte> buffer, int start, int length)
    {
        if (buffer.Length - start < MaxLength)
        {
            return CopiedWordsOf(buffer.Slice(start, length));
        }

        ref var at = ref Unsafe.Add(ref MemoryMarshal.GetReference(buffer), start);
        return (Unsafe.ReadUnaligned<ulong>(ref at) & LowMasks[length], Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref at, 8)) & HighMasks[length]);
    }

    /// <summary>Near the end of the buffer: the text copied first (kept out of the hot path: its stack buffer).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (ulong Lo, ulong Hi) CopiedWordsOf(ReadOnlySpan<byte> text)
    {
        Span<byte> copy = stackalloc byte[MaxLength];
        copy.Clear();
        text.CopyTo(copy);
        return (BinaryPrimitives.ReadUInt64LittleEndian(copy), BinaryPrimitives.ReadUInt64LittleEndian(copy[8..]));
    }

    /// <summary>Per length 0–16: the bytes of the first word that belong to the text.</summary>
    private static ReadOnlySpan<ulong> LowMasks =>
    [
        0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF, 0xFFFFFFFFFF, 0xFFFFFFFFFFFF, 0xFFFFFFFFFFFFFF,
        ulong.MaxValue, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue,
    ];

    /// <summary>Per length 0–16: the bytes of the second word that belong to the text.</summary>
    private static ReadOnlySpan<ulong> HighMasks =>
    [
        0, 0, 0, 0, 0, 0, 0, 0,
        0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF, 0xFFFFFFFFFF, 0xFFFFFFFFFFFF, 0xFFFFFFFFFFFFFF, ulong.MaxValue,
    ];

    private static int BitsFor(int count)
    {
        var bits = 1;
        while ((1 << bits) < count * 2)
        {
            bits++;
        }

        return bits;
    }

    private readonly record struct Entry(ulong Lo, ulong Hi, int Length, int[] Tables)
    {
        public static readonly Entry Free = new(0, 0, -1, []);
    }
}
