using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace MskClickHouse.Core.Events;

/// <summary>
/// Decodes the Lambda Kafka event (Amazon MSK and self-managed Apache Kafka event source mappings) in one pass of
/// <see cref="Utf8JsonReader"/> over the raw payload. Keys, values and header bytes are base64-decoded straight into
/// one pooled arena; no string or object is made per record (one topic string per partition).
/// </summary>
/// <remarks>
/// Records are grouped by their own <c>topic</c> and <c>partition</c>, not by the <c>records</c> map key (which is kept,
/// from the first record seen, as <see cref="PartitionRecords.MapKey"/>). A record that cannot be decoded (missing
/// topic/partition/offset, invalid base64, wrongly typed field) is kept with <see cref="KafkaRecord.Error"/> set and its
/// whole JSON text, as sent, in <see cref="KafkaRecord.Value"/>. A payload that is not a Kafka event at all throws
/// <see cref="EventFormatException"/>.
/// </remarks>
public static class KafkaEventDecoder
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>
    /// Where the current reader's span starts in the payload: the header fast path skips number arrays by hand and
    /// starts a new reader (same state) after them. Decode runs synchronously on one thread, so a thread-static is safe.
    /// </summary>
    [ThreadStatic]
    private static long readerBase;

    public static KafkaBatch Decode(ReadOnlySpan<byte> utf8Payload)
    {
        readerBase = 0;
        var state = new DecodeState(utf8Payload.Length);
        var reader = new Utf8JsonReader(utf8Payload, ReaderOptions);
        try
        {
            DecodeEvent(ref reader, utf8Payload, state);
            return state.Finish(utf8Payload.Length);
        }
        catch (JsonException ex)
        {
            state.Abandon();
            // After a header fast path re-based the reader, line numbers no longer add up: use the last token's end.
            var position = readerBase == 0 && ex.LineNumber is long line && ex.BytePositionInLine is long inLine
                ? AbsolutePosition(utf8Payload, line, inLine, reader.BytesConsumed)
                : readerBase + reader.BytesConsumed;
            throw new EventFormatException(position, "not valid JSON: " + StripPosition(ex.Message), ex);
        }
        catch
        {
            state.Abandon();
            throw;
        }
    }

    private static void DecodeEvent(ref Utf8JsonReader reader, ReadOnlySpan<byte> payload, DecodeState state)
    {
        if (!reader.Read())
        {
            throw new EventFormatException(0, "expected a JSON object, found an empty payload");
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Unexpected(ref reader, "the event to be a JSON object");
        }

        var sawRecords = false;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("records"u8))
            {
                Next(ref reader);
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    throw Unexpected(ref reader, "'records' to be an object keyed \"topic-partition\"");
                }

                DecodeRecordsMap(ref reader, payload, state);
                sawRecords = true;
            }
            else if (reader.ValueTextEquals("eventSourceArn"u8))
            {
                Next(ref reader);
                state.EventSourceArn = OptionalString(ref reader, "eventSourceArn");
            }
            else if (reader.ValueTextEquals("eventSource"u8))
            {
                Next(ref reader);
                state.EventSource = OptionalString(ref reader, "eventSource");
            }
            else if (reader.ValueTextEquals("bootstrapServers"u8))
            {
                Next(ref reader);
                state.BootstrapServers = OptionalString(ref reader, "bootstrapServers");
            }
            else
            {
                Next(ref reader);
                reader.Skip();
            }
        }

        if (!sawRecords)
        {
            throw new EventFormatException(Start(ref reader), "the event has no 'records' object (is this a Kafka event?)");
        }

        // Anything after the closing brace other than whitespace makes Read throw (trailing garbage).
        if (reader.Read())
        {
            throw Unexpected(ref reader, "the end of the payload after the event object");
        }
    }

    private static void DecodeRecordsMap(ref Utf8JsonReader reader, ReadOnlySpan<byte> payload, DecodeState state)
    {
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            var mapKey = new MapKey(reader.ValueIsEscaped ? reader.GetString() : null, (int)Start(ref reader) + 1, reader.ValueSpan.Length);
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.Null)
            {
                continue;
            }

            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw Unexpected(ref reader, $"an array of records for key '{mapKey.ToString(payload)}'");
            }

            while (Next(ref reader) != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    throw Unexpected(ref reader, $"a record object in '{mapKey.ToString(payload)}'");
                }

                DecodeRecord(ref reader, payload, state, ref mapKey);
            }
        }
    }

    private static void DecodeRecord(ref Utf8JsonReader reader, ReadOnlySpan<byte> payload, DecodeState state, ref MapKey mapKey)
    {
        var recordStart = (int)Start(ref reader);
        var headerStart = state.HeaderCount;
        ReadOnlySpan<byte> topic = default;
        var hasTopic = false;
        var partition = 0;
        var hasPartition = false;
        var offset = -1L;
        var hasOffset = false;
        var timestamp = -1L;
        var timestampType = TimestampType.NoTimestampType;
        var key = ByteRange.Null;
        var value = ByteRange.Null;
        var hasSchema = false;
        var valueFormat = SchemaDataFormat.None;
        string? error = null;

        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            var field = Classify(ref reader);
            Next(ref reader);
            var token = reader.TokenType;
            switch (field)
            {
                case Field.Topic:
                    if (token == JsonTokenType.String)
                    {
                        topic = reader.ValueIsEscaped ? Encoding.UTF8.GetBytes(reader.GetString()!) : reader.ValueSpan;
                        hasTopic = topic.Length > 0;
                    }
                    else
                    {
                        error ??= WrongType(ref reader, "topic", "a string");
                    }

                    break;
                case Field.Partition:
                    if (token == JsonTokenType.Number && reader.TryGetInt32(out partition) && partition >= 0)
                    {
                        hasPartition = true;
                    }
                    else
                    {
                        error ??= WrongType(ref reader, "partition", "a non-negative 32-bit integer");
                    }

                    break;
                case Field.Offset:
                    if (token == JsonTokenType.Number && reader.TryGetInt64(out offset) && offset >= 0)
                    {
                        hasOffset = true;
                    }
                    else
                    {
                        offset = -1;
                        error ??= WrongType(ref reader, "offset", "a non-negative 64-bit integer");
                    }

                    break;
                case Field.Timestamp:
                    if (token == JsonTokenType.Number && reader.TryGetInt64(out timestamp))
                    {
                        break;
                    }

                    timestamp = -1;
                    if (token != JsonTokenType.Null)
                    {
                        error ??= WrongType(ref reader, "timestamp", "an integer (epoch milliseconds)");
                    }

                    break;
                case Field.TimestampType:
                    if (token == JsonTokenType.String)
                    {
                        timestampType = ParseTimestampType(ref reader);
                    }
                    else
                    {
                        reader.Skip();
                    }

                    break;
                case Field.Key:
                    if (token == JsonTokenType.String)
                    {
                        key = state.DecodeBase64(ref reader, "key", ref error);
                    }
                    else if (token != JsonTokenType.Null)
                    {
                        error ??= WrongType(ref reader, "key", "a base64 string or null");
                    }

                    break;
                case Field.Value:
                    if (token == JsonTokenType.String)
                    {
                        value = state.DecodeBase64(ref reader, "value", ref error);
                    }
                    else if (token != JsonTokenType.Null)
                    {
                        error ??= WrongType(ref reader, "value", "a base64 string or null");
                    }

                    break;
                case Field.Headers:
                    if (token == JsonTokenType.StartArray)
                    {
                        state.DecodeHeaders(ref reader, payload, ref error);
                    }
                    else if (token != JsonTokenType.Null)
                    {
                        error ??= WrongType(ref reader, "headers", "an array of objects");
                    }

                    break;
                case Field.ValueSchemaMetadata:
                    hasSchema = true;
                    valueFormat = ReadSchemaFormat(ref reader);
                    break;
                case Field.KeySchemaMetadata:
                    hasSchema = true;
                    reader.Skip();
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        var recordEnd = (int)(readerBase + reader.BytesConsumed);

        if (!hasOffset)
        {
            error ??= $"record has no 'offset' (record at byte {recordStart})";
        }

        if (!hasTopic || !hasPartition)
        {
            error ??= $"record has no '{(hasTopic ? "partition" : "topic")}' (record at byte {recordStart}); topic and partition taken from the records key";
            if (!mapKey.TrySplit(payload, out var mapTopic, out var mapPartition))
            {
                throw new EventFormatException(
                    recordStart,
                    $"a record has no topic or partition and its records key '{mapKey.ToString(payload)}' is not \"topic-partition\"");
            }

            if (!hasTopic)
            {
                topic = mapTopic;
            }

            if (!hasPartition)
            {
                partition = mapPartition;
            }
        }

        if (error is not null)
        {
            // Keep what was sent: the record's JSON text, so the dead-letter table can show it.
            value = state.CopyRaw(payload[recordStart..recordEnd]);
        }

        var record = new KafkaRecord(
            offset,
            timestamp,
            timestampType,
            key,
            value,
            headerStart,
            state.HeaderCount - headerStart,
            hasSchema,
            error)
        {
            ValueSchemaFormat = valueFormat,
        };
        state.Add(topic, partition, ref mapKey, payload, in record);
    }

    /// <summary>The payload position of the current token.</summary>
    private static long Start(ref Utf8JsonReader reader) => readerBase + reader.TokenStartIndex;

    private static TimestampType ParseTimestampType(ref Utf8JsonReader reader)
    {
        if (reader.ValueTextEquals("CREATE_TIME"u8))
        {
            return TimestampType.CreateTime;
        }

        if (reader.ValueTextEquals("LOG_APPEND_TIME"u8))
        {
            return TimestampType.LogAppendTime;
        }

        return TimestampType.NoTimestampType;
    }

    private static SchemaDataFormat ReadSchemaFormat(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return SchemaDataFormat.None;
        }

        var format = SchemaDataFormat.Other;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            var isFormat = reader.ValueTextEquals("dataFormat"u8);
            Next(ref reader);
            if (isFormat && reader.TokenType == JsonTokenType.String)
            {
                format = reader.ValueTextEquals("AVRO"u8) ? SchemaDataFormat.Avro
                    : reader.ValueTextEquals("PROTOBUF"u8) ? SchemaDataFormat.Protobuf
                    : reader.ValueTextEquals("JSON"u8) ? SchemaDataFormat.Json
                    : SchemaDataFormat.Other;
            }
            else
            {
                reader.Skip();
            }
        }

        return format;
    }

    private enum Field
    {
        Unknown,
        Topic,
        Partition,
        Offset,
        Timestamp,
        TimestampType,
        Key,
        Value,
        Headers,
        KeySchemaMetadata,
        ValueSchemaMetadata,
    }

    private static Field Classify(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            var name = reader.ValueSpan;
            switch (name.Length)
            {
                case 3 when name.SequenceEqual("key"u8): return Field.Key;
                case 5 when name.SequenceEqual("topic"u8): return Field.Topic;
                case 5 when name.SequenceEqual("value"u8): return Field.Value;
                case 6 when name.SequenceEqual("offset"u8): return Field.Offset;
                case 7 when name.SequenceEqual("headers"u8): return Field.Headers;
                case 9 when name.SequenceEqual("partition"u8): return Field.Partition;
                case 9 when name.SequenceEqual("timestamp"u8): return Field.Timestamp;
                case 13 when name.SequenceEqual("timestampType"u8): return Field.TimestampType;
                case 17 when name.SequenceEqual("keySchemaMetadata"u8): return Field.KeySchemaMetadata;
                case 19 when name.SequenceEqual("valueSchemaMetadata"u8): return Field.ValueSchemaMetadata;
                default: return Field.Unknown;
            }
        }

        return reader.ValueTextEquals("key"u8) ? Field.Key
            : reader.ValueTextEquals("topic"u8) ? Field.Topic
            : reader.ValueTextEquals("value"u8) ? Field.Value
            : reader.ValueTextEquals("offset"u8) ? Field.Offset
            : reader.ValueTextEquals("headers"u8) ? Field.Headers
            : reader.ValueTextEquals("partition"u8) ? Field.Partition
            : reader.ValueTextEquals("timestamp"u8) ? Field.Timestamp
            : reader.ValueTextEquals("timestampType"u8) ? Field.TimestampType
            : reader.ValueTextEquals("keySchemaMetadata"u8) ? Field.KeySchemaMetadata
            : reader.ValueTextEquals("valueSchemaMetadata"u8) ? Field.ValueSchemaMetadata
            : Field.Unknown;
    }

    private static string WrongType(ref Utf8JsonReader reader, string field, string expected)
    {
        var found = Describe(reader.TokenType);
        var at = Start(ref reader);
        reader.Skip();
        return $"field '{field}' is {found}, expected {expected} (at byte {at})";
    }

    private static string? OptionalString(ref Utf8JsonReader reader, string field)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }

        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        throw Unexpected(ref reader, $"'{field}' to be a string");
    }

    /// <summary>Reads the next token; the end of the payload in the middle of the event is a format error.</summary>
    private static JsonTokenType Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new EventFormatException(readerBase + reader.BytesConsumed, "the payload ends in the middle of the event (truncated JSON)");
        }

        return reader.TokenType;
    }

    private static EventFormatException Unexpected(ref Utf8JsonReader reader, string expected) =>
        new(Start(ref reader), $"expected {expected}, found {Describe(reader.TokenType)}");

    internal static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        JsonTokenType.PropertyName => "a property name",
        JsonTokenType.EndObject => "the end of an object",
        JsonTokenType.EndArray => "the end of an array",
        _ => token.ToString(),
    };

    /// <summary>The absolute byte offset of a reader error from its line and byte-in-line.</summary>
    internal static long AbsolutePosition(ReadOnlySpan<byte> data, long line, long bytePositionInLine, long fallback)
    {
        var start = 0;
        for (long l = 0; l < line; l++)
        {
            var nl = data[start..].IndexOf((byte)'\n');
            if (nl < 0)
            {
                return fallback;
            }

            start += nl + 1;
        }

        return start + bytePositionInLine;
    }

    /// <summary>Drops the " LineNumber: .. | BytePositionInLine: .." tail of a reader message: we report an absolute byte.</summary>
    internal static string StripPosition(string message)
    {
        var i = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (i >= 0 ? message[..i] : message).TrimEnd(' ', '.');
    }

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

    /// <summary>Records of one topic-partition while decoding; the record array is pooled until <see cref="DecodeState.Finish"/>.</summary>
    private sealed class PartitionBuilder(byte[] topicUtf8, string topic, int partition, string mapKey)
    {
        public byte[] TopicUtf8 { get; } = topicUtf8;

        public string Topic { get; } = topic;

        public int Partition { get; } = partition;

        public string MapKey { get; } = mapKey;

        public KafkaRecord[] Records { get; set; } = ArrayPool<KafkaRecord>.Shared.Rent(64);

        public int Count { get; set; }
    }

    private sealed class DecodeState
    {
        private readonly List<PartitionBuilder> partitions = [];
        private byte[] arena;
        private int arenaLength;
        private KafkaHeader[] headers;
        private PartitionBuilder? last;
        private long oldest = long.MaxValue;
        private int received;

        public DecodeState(int payloadLength)
        {
            // Every decoded byte comes from at least one distinct payload byte, so the payload length is enough
            // (the raw text copied for records in error may need more: EnsureArena grows then).
            arena = ArrayPool<byte>.Shared.Rent(Math.Max(payloadLength, 256));
            headers = ArrayPool<KafkaHeader>.Shared.Rent(64);
        }

        public string? EventSource { get; set; }

        public string? EventSourceArn { get; set; }

        public string? BootstrapServers { get; set; }

        public int HeaderCount { get; private set; }

        public ByteRange DecodeBase64(ref Utf8JsonReader reader, string field, ref string? error)
        {
            var src = reader.ValueSpan;
            EnsureArena(src.Length);
            var start = arenaLength;
            var dest = arena.AsSpan(start);
            OperationStatus status;
            int written;
            if (reader.ValueIsEscaped)
            {
                // e.g. "\/" or "\u002B": unescape in place into the arena, then decode in place.
                var n = reader.CopyString(dest);
                status = Base64.DecodeFromUtf8InPlace(dest[..n], out written);
            }
            else
            {
                status = Base64.DecodeFromUtf8(src, dest, out _, out written);
            }

            if (status != OperationStatus.Done)
            {
                var text = reader.ValueIsEscaped ? arena.AsSpan(start, reader.CopyString(arena.AsSpan(start))) : src;
                status = DecodeNonCanonical(text, dest, out written);
            }

            if (status != OperationStatus.Done)
            {
                error ??= $"field '{field}' is not valid base64 (at byte {Start(ref reader)})";
                return ByteRange.Null;
            }

            arenaLength += written;
            return new ByteRange(start, written);
        }

        /// <summary>
        /// Decodes base64 whose last character carries bits beyond the data ("...34==" instead of "...3w=="), which
        /// strict decoding refuses but Java and Python decoders accept; anything else stays invalid.
        /// </summary>
        private static OperationStatus DecodeNonCanonical(ReadOnlySpan<byte> text, Span<byte> dest, out int written)
        {
            written = 0;
            if (text.Length < 4 || text.Length % 4 != 0 || text[^1] != (byte)'=')
            {
                return OperationStatus.InvalidData;
            }

            Span<byte> last = stackalloc byte[4];
            text[^4..].CopyTo(last);
            var at = last[2] == (byte)'=' ? 1 : 2;
            var mask = at == 1 ? 0x30 : 0x3C;
            var v = Base64Value(last[at]);
            if (v < 0)
            {
                return OperationStatus.InvalidData;
            }

            last[at] = Base64Char(v & mask);
            var status = Base64.DecodeFromUtf8(text[..^4], dest, out _, out var body);
            if (status != OperationStatus.Done)
            {
                return status;
            }

            status = Base64.DecodeFromUtf8(last, dest[body..], out _, out var tail);
            written = body + tail;
            return status;
        }

        private static int Base64Value(byte c) => c switch
        {
            >= (byte)'A' and <= (byte)'Z' => c - 'A',
            >= (byte)'a' and <= (byte)'z' => c - 'a' + 26,
            >= (byte)'0' and <= (byte)'9' => c - '0' + 52,
            (byte)'+' => 62,
            (byte)'/' => 63,
            _ => -1,
        };

        private static byte Base64Char(int v) => (byte)(v < 26 ? 'A' + v : v < 52 ? 'a' + v - 26 : v < 62 ? '0' + v - 52 : v == 62 ? '+' : '/');

        public void DecodeHeaders(ref Utf8JsonReader reader, ReadOnlySpan<byte> payload, ref string? error)
        {
            // [ { "name": [signed bytes] }, ... ]
            while (Next(ref reader) != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    error ??= WrongType(ref reader, "headers[]", "an object { name: [bytes] }");
                    continue;
                }

                while (Next(ref reader) == JsonTokenType.PropertyName)
                {
                    var name = CopyString(ref reader);
                    Next(ref reader);
                    var value = ByteRange.Null;
                    if (reader.TokenType == JsonTokenType.StartArray)
                    {
                        value = TryReadSignedBytesFast(ref reader, payload) ?? ReadSignedBytes(ref reader, ref error);
                    }
                    else if (reader.TokenType != JsonTokenType.Null)
                    {
                        error ??= WrongType(ref reader, "headers", "an array of byte numbers");
                    }

                    AddHeader(new KafkaHeader(name, value));
                }
            }
        }

        /// <summary>
        /// Reads a header's array of byte numbers straight from the payload (a token per number through the reader
        /// costs several times more), then continues with a new reader, of the same state, at the closing ']'.
        /// Null (nothing consumed) when the array is anything but plain integers in -128..255: the reader path then
        /// reads it and reports what is wrong.
        /// </summary>
        private ByteRange? TryReadSignedBytesFast(ref Utf8JsonReader reader, ReadOnlySpan<byte> payload)
        {
            var i = (int)(readerBase + reader.BytesConsumed);
            var start = arenaLength;
            var count = 0;
            var room = arena.Length - arenaLength;
            while (true)
            {
                while (i < payload.Length && payload[i] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
                {
                    i++;
                }

                if (i >= payload.Length)
                {
                    return null;
                }

                if (payload[i] == (byte)']')
                {
                    if (count > 0)
                    {
                        return null; // "[1,]" is not JSON: let the reader say so
                    }

                    break;
                }

                var negative = payload[i] == (byte)'-';
                if (negative)
                {
                    i++;
                }

                var digits = 0;
                var v = 0;
                while (i < payload.Length && payload[i] - (uint)'0' <= 9 && digits < 4)
                {
                    v = (v * 10) + (payload[i] - '0');
                    digits++;
                    i++;
                }

                if (digits == 0 || digits > 3 || (digits > 1 && payload[i - digits] == (byte)'0') || (negative ? v > 128 : v > 255) || count >= room)
                {
                    return null;
                }

                arena[start + count++] = (byte)(negative ? -v : v);
                while (i < payload.Length && payload[i] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
                {
                    i++;
                }

                if (i >= payload.Length)
                {
                    return null;
                }

                if (payload[i] == (byte)',')
                {
                    i++;
                    continue;
                }

                if (payload[i] == (byte)']')
                {
                    break;
                }

                return null;
            }

            // payload[i] is the ']': a new reader over the rest, in the state "inside an array just opened", reads it as EndArray.
            var state = reader.CurrentState;
            reader = new Utf8JsonReader(payload[i..], isFinalBlock: true, state);
            readerBase = i;
            reader.Read();
            arenaLength += count;
            return new ByteRange(start, count);
        }

        private ByteRange ReadSignedBytes(ref Utf8JsonReader reader, ref string? error)
        {
            var start = arenaLength;
            while (Next(ref reader) != JsonTokenType.EndArray)
            {
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var b) && b is >= -128 and <= 255)
                {
                    // Each number is at least one payload byte, so the arena (sized from the payload) has room; check anyway.
                    EnsureArena(1);
                    arena[arenaLength++] = (byte)b;
                }
                else
                {
                    error ??= $"a header value byte is {Describe(reader.TokenType)} out of -128..255 (at byte {Start(ref reader)})";
                    reader.Skip();
                }
            }

            return new ByteRange(start, arenaLength - start);
        }

        private ByteRange CopyString(ref Utf8JsonReader reader)
        {
            var src = reader.ValueSpan;
            EnsureArena(src.Length);
            var start = arenaLength;
            if (reader.ValueIsEscaped)
            {
                arenaLength += reader.CopyString(arena.AsSpan(start));
            }
            else
            {
                src.CopyTo(arena.AsSpan(start));
                arenaLength += src.Length;
            }

            return new ByteRange(start, arenaLength - start);
        }

        public ByteRange CopyRaw(ReadOnlySpan<byte> raw)
        {
            EnsureArena(raw.Length);
            var start = arenaLength;
            raw.CopyTo(arena.AsSpan(start));
            arenaLength += raw.Length;
            return new ByteRange(start, raw.Length);
        }

        private void AddHeader(KafkaHeader header)
        {
            if (HeaderCount == headers.Length)
            {
                var bigger = ArrayPool<KafkaHeader>.Shared.Rent(headers.Length * 2);
                headers.AsSpan(0, HeaderCount).CopyTo(bigger);
                ArrayPool<KafkaHeader>.Shared.Return(headers);
                headers = bigger;
            }

            headers[HeaderCount++] = header;
        }

        private void EnsureArena(int extra)
        {
            if (arena.Length - arenaLength >= extra)
            {
                return;
            }

            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(arena.Length * 2, arenaLength + extra));
            arena.AsSpan(0, arenaLength).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(arena);
            arena = bigger;
        }

        public void Add(ReadOnlySpan<byte> topic, int partition, ref MapKey mapKey, ReadOnlySpan<byte> payload, in KafkaRecord record)
        {
            received++;
            if (record.TimestampMs >= 0 && record.TimestampMs < oldest)
            {
                oldest = record.TimestampMs;
            }

            var p = last;
            if (p is null || p.Partition != partition || !topic.SequenceEqual(p.TopicUtf8))
            {
                p = null;
                foreach (var candidate in partitions)
                {
                    if (candidate.Partition == partition && topic.SequenceEqual(candidate.TopicUtf8))
                    {
                        p = candidate;
                        break;
                    }
                }

                if (p is null)
                {
                    p = new PartitionBuilder(topic.ToArray(), Encoding.UTF8.GetString(topic), partition, mapKey.ToString(payload));
                    partitions.Add(p);
                }

                last = p;
            }

            if (p.Count == p.Records.Length)
            {
                var bigger = ArrayPool<KafkaRecord>.Shared.Rent(p.Count * 2);
                p.Records.AsSpan(0, p.Count).CopyTo(bigger);
                ArrayPool<KafkaRecord>.Shared.Return(p.Records, clearArray: true);
                p.Records = bigger;
            }

            p.Records[p.Count++] = record;
        }

        public KafkaBatch Finish(int payloadLength)
        {
            var result = new PartitionRecords[partitions.Count];
            for (var i = 0; i < partitions.Count; i++)
            {
                var p = partitions[i];
                var records = SortAndDeduplicate(p.Records.AsSpan(0, p.Count), out var dropped);
                ArrayPool<KafkaRecord>.Shared.Return(p.Records, clearArray: true);
                result[i] = new PartitionRecords(p.Topic, p.Partition, p.MapKey, records, dropped);
            }

            partitions.Clear();
            return new KafkaBatch(
                arena,
                arenaLength,
                headers,
                HeaderCount,
                result,
                payloadLength,
                EventSource,
                EventSourceArn,
                BootstrapServers,
                oldest == long.MaxValue ? null : oldest,
                received);
        }

        public void Abandon()
        {
            foreach (var p in partitions)
            {
                ArrayPool<KafkaRecord>.Shared.Return(p.Records, clearArray: true);
            }

            partitions.Clear();
            ArrayPool<byte>.Shared.Return(arena);
            ArrayPool<KafkaHeader>.Shared.Return(headers);
        }
    }

    /// <summary>Sorts by offset (stable) and keeps the first of each repeated offset; O(n) when already strictly ascending.</summary>
    internal static KafkaRecord[] SortAndDeduplicate(ReadOnlySpan<KafkaRecord> records, out int dropped)
    {
        dropped = 0;
        var ascending = true;
        for (var i = 1; i < records.Length; i++)
        {
            if (records[i].Offset <= records[i - 1].Offset)
            {
                ascending = false;
                break;
            }
        }

        if (ascending)
        {
            return records.ToArray();
        }

        var order = new (long Offset, int Index)[records.Length];
        for (var i = 0; i < records.Length; i++)
        {
            order[i] = (records[i].Offset, i);
        }

        Array.Sort(order);
        var kept = new List<KafkaRecord>(records.Length);
        for (var i = 0; i < order.Length; i++)
        {
            if (i > 0 && order[i].Offset == order[i - 1].Offset)
            {
                dropped++;
                continue;
            }

            kept.Add(records[order[i].Index]);
        }

        return [.. kept];
    }
}
