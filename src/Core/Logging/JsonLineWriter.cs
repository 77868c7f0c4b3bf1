using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace MskClickHouse.Core.Logging;

/// <summary>Writes one JSON object into the writer; <typeparamref name="TState"/> carries what to write without a closure.</summary>
public delegate void JsonLineBody<TState>(Utf8JsonWriter writer, in TState state)
    where TState : allows ref struct;

/// <summary>
/// The process's one structured output (stdout in Lambda): each call writes exactly one JSON object and a '\n'
/// with a single <see cref="Stream.Write(ReadOnlySpan{byte})"/>, so lines from concurrent writers never interleave.
/// Log lines (<see cref="JsonLog"/>) and metric lines (<see cref="Metrics.EmfMetricsSink"/>) share it.
/// The JSON is built in one reused buffer under a lock: no per-line buffer or string allocation.
/// </summary>
public sealed class JsonLineWriter : IDisposable
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Readable in CloudWatch: keep non-ASCII and HTML-sensitive characters as they are (still valid JSON).
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    private readonly Lock _gate = new();
    private readonly Stream _output;
    private readonly bool _ownsOutput;
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _writer;

    public JsonLineWriter(Stream output, bool ownsOutput = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _ownsOutput = ownsOutput;
        _writer = new Utf8JsonWriter(_buffer, WriterOptions);
    }

    /// <summary>Standard output, unbuffered: a line is written when the call returns.</summary>
    public static JsonLineWriter StandardOutput() => new(Console.OpenStandardOutput(), ownsOutput: true);

    public void WriteLine<TState>(in TState state, JsonLineBody<TState> body)
        where TState : allows ref struct
    {
        ArgumentNullException.ThrowIfNull(body);
        lock (_gate)
        {
            _buffer.ResetWrittenCount();
            _writer.Reset(_buffer);
            try
            {
                body(_writer, in state);
                _writer.Flush();
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException)
            {
                // A malformed line must not poison the writer: drop what was built and keep going.
                _writer.Reset(_buffer);
                _buffer.ResetWrittenCount();
                throw;
            }

            _buffer.GetSpan(1)[0] = (byte)'\n';
            _buffer.Advance(1);
            _output.Write(_buffer.WrittenSpan);
            _output.Flush();

            // Do not keep a huge buffer alive after one oversized line (e.g. a long stack trace).
            if (_buffer.Capacity > 1 << 20)
            {
                _buffer.Clear();
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _writer.Dispose();
            if (_ownsOutput)
            {
                _output.Dispose();
            }
        }
    }
}
