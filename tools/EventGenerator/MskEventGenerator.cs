using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace MskClickHouse.EventGenerator;

/// <summary>
/// Makes realistic Lambda MSK events (compact JSON, as Lambda sends them) from a seed: the same arguments always give
/// the same bytes. Values are JSON objects of about the requested size; a share of records can be made bad.
/// </summary>
public static class MskEventGenerator
{
    /// <summary>Kinds of bad record, chosen in turn when <c>badRecordRatio</c> &gt; 0.</summary>
    public enum BadKind
    {
        Tombstone,
        InvalidBase64,
        JsonArray,
        BrokenJson,
    }

    private static readonly string[] Names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"];
    private static readonly string[] Tiers = ["free", "pro", "team", "enterprise"];
    private static readonly string[] Events = ["page_view", "click", "purchase", "signup", "logout", "search"];

    /// <summary>
    /// An event with <paramref name="records"/> records spread round-robin over <paramref name="topics"/> ×
    /// <paramref name="partitions"/> partitions, each value a JSON object of about <paramref name="valueBytes"/> bytes.
    /// </summary>
    /// <param name="seed">Seed of the pseudo-random content.</param>
    /// <param name="records">Number of records.</param>
    /// <param name="valueBytes">Approximate size of each decoded value.</param>
    /// <param name="topics">Number of topics (named <c>topic-a</c>, <c>topic-b</c>...).</param>
    /// <param name="partitions">Partitions per topic.</param>
    /// <param name="badRecordRatio">Share (0..1) of records made bad: tombstones, invalid base64, JSON arrays, broken JSON in turn.</param>
    /// <param name="headersPerRecord">Headers per record (a small content-type header and trace ids).</param>
    public static byte[] Generate(int seed, int records, int valueBytes, int topics, int partitions, double badRecordRatio, int headersPerRecord = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(records);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(topics);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partitions);
        var random = new Random(seed);
        var streams = topics * partitions;
        var byStream = new List<int>[streams];
        for (var i = 0; i < streams; i++)
        {
            byStream[i] = [];
        }

        for (var i = 0; i < records; i++)
        {
            byStream[i % streams].Add(i);
        }

        var output = new ArrayBufferWriter<byte>(Math.Max(1024, records * ((valueBytes * 4 / 3) + 300)));
        Append(output, "{\"eventSource\":\"aws:kafka\",\"eventSourceArn\":\"arn:aws:kafka:eu-west-1:123456789012:cluster/bench/0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e-1\",\"bootstrapServers\":\"b-1.bench.kafka.eu-west-1.amazonaws.com:9098,b-2.bench.kafka.eu-west-1.amazonaws.com:9098\",\"records\":{");
        var valueBuffer = new ArrayBufferWriter<byte>(valueBytes + 256);
        var badEvery = badRecordRatio <= 0 ? int.MaxValue : (int)Math.Max(1, Math.Round(1 / badRecordRatio));
        var bad = 0;
        var baseTime = 1_700_000_000_000L + random.Next(0, 1_000_000);
        for (var s = 0; s < streams; s++)
        {
            if (byStream[s].Count == 0)
            {
                continue;
            }

            var topic = "topic-" + (char)('a' + (s / partitions % 26)) + (s / partitions >= 26 ? (s / partitions).ToString(CultureInfo.InvariantCulture) : "");
            var partition = s % partitions;
            if (s > 0 && output.WrittenSpan[^1] == (byte)']')
            {
                Append(output, ",");
            }

            Append(output, $"\"{topic}-{partition}\":[");
            var offset = 1000L * (partition + 1);
            for (var j = 0; j < byStream[s].Count; j++)
            {
                var index = byStream[s][j];
                if (j > 0)
                {
                    Append(output, ",");
                }

                Append(output, $"{{\"topic\":\"{topic}\",\"partition\":{partition},\"offset\":{offset + j},\"timestamp\":{baseTime + index},\"timestampType\":\"CREATE_TIME\",\"key\":\"");
                AppendBase64(output, Encoding.ASCII.GetBytes("user-" + random.Next(0, 100_000).ToString(CultureInfo.InvariantCulture)));
                Append(output, "\",\"value\":");
                var kind = (index + 1) % badEvery == 0 ? (BadKind?)(BadKind)(bad++ % 4) : null;
                switch (kind)
                {
                    case BadKind.Tombstone:
                        Append(output, "null");
                        break;
                    case BadKind.InvalidBase64:
                        Append(output, "\"not*base64*at*all\"");
                        break;
                    case BadKind.JsonArray:
                        Append(output, "\"");
                        AppendBase64(output, "[1,2,3]"u8);
                        Append(output, "\"");
                        break;
                    case BadKind.BrokenJson:
                        Append(output, "\"");
                        AppendBase64(output, "{\"id\":1,\"broken\":"u8);
                        Append(output, "\"");
                        break;
                    default:
                        valueBuffer.ResetWrittenCount();
                        WriteValue(valueBuffer, random, index, valueBytes, baseTime + index);
                        Append(output, "\"");
                        AppendBase64(output, valueBuffer.WrittenSpan);
                        Append(output, "\"");
                        break;
                }

                Append(output, ",\"headers\":[");
                for (var h = 0; h < headersPerRecord; h++)
                {
                    if (h > 0)
                    {
                        Append(output, ",");
                    }

                    var (name, value) = h == 0 ? ("content-type", "application/json") : ("trace-" + h.ToString(CultureInfo.InvariantCulture), random.NextInt64().ToString("x16", CultureInfo.InvariantCulture));
                    Append(output, $"{{\"{name}\":[");
                    var bytes = Encoding.UTF8.GetBytes(value);
                    for (var b = 0; b < bytes.Length; b++)
                    {
                        Append(output, (b > 0 ? "," : "") + ((sbyte)bytes[b]).ToString(CultureInfo.InvariantCulture));
                    }

                    Append(output, "]}");
                }

                Append(output, "]}");
            }

            Append(output, "]");
        }

        Append(output, "}}");
        return output.WrittenSpan.ToArray();
    }

    /// <summary>A JSON object of about <paramref name="size"/> bytes, shaped like an analytics event.</summary>
    private static void WriteValue(ArrayBufferWriter<byte> buffer, Random random, int index, int size, long timestamp)
    {
        var name = Names[random.Next(Names.Length)];
        var head = string.Create(
            CultureInfo.InvariantCulture,
            $"{{\"id\":{index},\"event\":\"{Events[random.Next(Events.Length)]}\",\"ts\":{timestamp},\"user\":{{\"name\":\"{name}\",\"tier\":\"{Tiers[random.Next(Tiers.Length)]}\",\"score\":{random.NextDouble() * 1000:F3}}},\"amount\":{random.Next(0, 100_000) / 100.0:F2},\"tags\":[\"t{random.Next(10)}\",\"t{random.Next(10)}\"],\"note\":\"");
        Append(buffer, head);
        var fill = Math.Max(0, size - head.Length - 2);
        var span = buffer.GetSpan(fill);
        for (var i = 0; i < fill; i++)
        {
            // Text with spaces and the odd non-ASCII letter (2 UTF-8 bytes).
            var r = random.Next(64);
            if (r == 0 && i + 1 < fill)
            {
                span[i++] = 0xC3;
                span[i] = 0xA9;
            }
            else
            {
                span[i] = r < 10 ? (byte)' ' : (byte)('a' + (r % 26));
            }
        }

        buffer.Advance(fill);
        Append(buffer, "\"}");
    }

    private static void Append(ArrayBufferWriter<byte> output, string ascii)
    {
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(ascii.Length));
        output.Advance(Encoding.UTF8.GetBytes(ascii, span));
    }

    private static void AppendBase64(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> data)
    {
        var span = output.GetSpan(Base64.GetMaxEncodedToUtf8Length(data.Length));
        Base64.EncodeToUtf8(data, span, out _, out var written);
        output.Advance(written);
    }
}
