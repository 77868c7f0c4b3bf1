namespace MskClickHouse.Core.ClickHouse;

/// <summary>A read-only, seekable stream over memory segments, so an insert body is sent without copying it.</summary>
internal sealed class SegmentStream : Stream
{
    private readonly IReadOnlyList<ReadOnlyMemory<byte>> _segments;
    private readonly long _length;
    private int _segment;
    private int _offsetInSegment;
    private long _position;

    public SegmentStream(IReadOnlyList<ReadOnlyMemory<byte>> segments)
    {
        _segments = segments;
        foreach (var s in segments)
        {
            _length += s.Length;
        }
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var written = 0;
        while (written < buffer.Length && _segment < _segments.Count)
        {
            var current = _segments[_segment].Span[_offsetInSegment..];
            var n = Math.Min(current.Length, buffer.Length - written);
            current[..n].CopyTo(buffer[written..]);
            written += n;
            _offsetInSegment += n;
            if (_offsetInSegment == _segments[_segment].Length)
            {
                _segment++;
                _offsetInSegment = 0;
            }
        }

        _position += written;
        return written;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => _length + offset,
        };
        ArgumentOutOfRangeException.ThrowIfNegative(target);
        _segment = 0;
        _offsetInSegment = 0;
        _position = 0;
        var remaining = Math.Min(target, _length);
        while (remaining > 0)
        {
            var len = _segments[_segment].Length;
            if (remaining >= len)
            {
                remaining -= len;
                _segment++;
            }
            else
            {
                _offsetInSegment = (int)remaining;
                remaining = 0;
            }
        }

        _position = Math.Min(target, _length);
        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
