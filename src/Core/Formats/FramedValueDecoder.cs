using System.IO.Compression;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Formats.Avro;
using MskClickHouse.Core.Formats.Framing;
using MskClickHouse.Core.Formats.Registry;

namespace MskClickHouse.Core.Formats;

/// <summary>
/// Turns one schema-registry framed value into the JSON object the row encoder splices metadata into. Pure given the
/// resolved schemas. The schema's own type (from the registry) decides how the payload is read; VALUE_FORMAT avro,
/// protobuf or json-schema only says that the topic's values are framed.
/// </summary>
public static class FramedValueDecoder
{
    [ThreadStatic]
    private static JsonOutput? scratch;

    [ThreadStatic]
    private static MemoryStream? inflated;

    /// <summary>
    /// Null on success with <paramref name="json"/> the value as JSON (an object for Avro, still to be validated for
    /// JSON schemas: <paramref name="needsValidation"/>); else the dead-letter reason. <paramref name="json"/> is valid
    /// until the next call on this thread.
    /// </summary>
    public static string? Decode(ReadOnlySpan<byte> value, ResolvedSchemas schemas, MetadataColumns tableMetadata, out ReadOnlySpan<byte> json, out bool needsValidation)
    {
        ArgumentNullException.ThrowIfNull(schemas);
        json = default;
        needsValidation = false;
        var reason = SchemaFraming.TryParse(value, out var framed);
        if (reason is not null)
        {
            return reason;
        }

        var schema = schemas.Find(framed.Schema);
        if (schema is null)
        {
            return $"{framed.Schema} was not looked up before encoding";
        }

        if (schema.Failure is not null)
        {
            return schema.Failure;
        }

        var payload = value[framed.PayloadStart..];
        if (framed.Compression == GlueCompression.Zlib)
        {
            reason = Inflate(payload, out payload);
            if (reason is not null)
            {
                return reason;
            }
        }

        if (schema.Type == SchemaType.Json)
        {
            json = payload;
            needsValidation = true;
            return null;
        }

        if ((schema.OwnMetadataFields & tableMetadata) != 0)
        {
            return $"{framed.Schema} has a top-level field named like a metadata column of the table ({ColumnSet.NameOf(LowestFlag(schema.OwnMetadataFields & tableMetadata))})";
        }

        var output = scratch ??= new JsonOutput(64 * 1024);
        output.Reset();
        if (schema.Type == SchemaType.Protobuf)
        {
            return DecodeProtobuf(schema, framed, payload, output, out json);
        }

        try
        {
            AvroTranscoder.Transcode(schema.Avro!, payload, output);
        }
        catch (AvroDataException e)
        {
            return $"Avro value does not decode with {framed.Schema}: {e.Message}";
        }
        catch (OverflowException)
        {
            return $"Avro value does not decode with {framed.Schema}: a date is out of range";
        }

        json = output.Written;
        return null;
    }

    /// <summary>The Connect logical types of a framed change event's row fields, from its resolved schema (null: none known).</summary>
    public static Cdc.ChangeEventSchema? ChangeEventTypesOf(ReadOnlySpan<byte> value, ResolvedSchemas schemas)
    {
        ArgumentNullException.ThrowIfNull(schemas);
        return SchemaFraming.TryParse(value, out var framed) is null && schemas.Find(framed.Schema) is { Failure: null } schema ? schema.ChangeEventTypes : null;
    }

    private static string? DecodeProtobuf(CompiledSchema schema, FramedValue framed, ReadOnlySpan<byte> payload, JsonOutput output, out ReadOnlySpan<byte> json)
    {
        json = default;
        Span<int> path = stackalloc int[ConfluentMessageIndexes.MaxDepth];
        var depth = 1;
        path[0] = 0;
        if (framed.Schema.Kind == RegistryKind.Confluent)
        {
            var reason = ConfluentMessageIndexes.TryRead(payload, path, out depth, out var consumed);
            if (reason is not null)
            {
                return reason;
            }

            payload = payload[consumed..];
        }

        var message = schema.MessageAt(path[..depth], out var missing);
        if (message is null)
        {
            return $"{framed.Schema}: {missing}";
        }

        try
        {
            Protobuf.ProtoTranscoder.Transcode(message, payload, output);
        }
        catch (Protobuf.ProtoDataException e)
        {
            return $"Protobuf value does not decode as {message.FullName} of {framed.Schema}: {e.Message}";
        }
        catch (OverflowException)
        {
            return $"Protobuf value does not decode as {message.FullName} of {framed.Schema}: a timestamp is out of range";
        }

        json = output.Written;
        return null;
    }

    private static MetadataColumns LowestFlag(MetadataColumns flags) => (MetadataColumns)((int)flags & -(int)flags);

    private static string? Inflate(ReadOnlySpan<byte> compressed, out ReadOnlySpan<byte> payload)
    {
        payload = default;
        var output = inflated ??= new MemoryStream();
        output.SetLength(0);
        try
        {
            using var input = new MemoryStream(compressed.ToArray(), writable: false);
            using var zlib = new ZLibStream(input, CompressionMode.Decompress);
            zlib.CopyTo(output);
        }
        catch (InvalidDataException e)
        {
            return $"Glue framing says zlib but the payload does not inflate: {e.Message}";
        }

        payload = output.GetBuffer().AsSpan(0, (int)output.Length);
        return null;
    }
}
