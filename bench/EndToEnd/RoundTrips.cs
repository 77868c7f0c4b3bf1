using System.Text;
using System.Text.RegularExpressions;

namespace MskClickHouse.Bench.EndToEnd;

/// <summary>One HTTP request and its response on a connection, as the proxy saw it: times since the proxy started, and the request's first bytes.</summary>
internal sealed class HttpExchange(double startMs)
{
    private const int HeadBytes = 8192;
    private readonly byte[] _head = new byte[HeadBytes];
    private int _length;

    public double StartMs { get; } = startMs;

    /// <summary>Last byte of the response seen so far (the start until the first one).</summary>
    public double EndMs { get; set; } = startMs;

    /// <summary>Request line, headers and the start of the body, URL-decoded (the statement is in the URL or the body).</summary>
    public string Head
    {
        get
        {
            var text = Encoding.Latin1.GetString(_head, 0, _length);
            try
            {
                return Uri.UnescapeDataString(text.Replace('+', ' '));
            }
            catch (UriFormatException)
            {
                return text;
            }
        }
    }

    /// <summary>Keeps the request's bytes up to the first 8 KiB.</summary>
    public void Keep(ReadOnlySpan<byte> bytes)
    {
        var n = Math.Min(HeadBytes - _length, bytes.Length);
        bytes[..n].CopyTo(_head.AsSpan(_length));
        _length += n;
    }
}

/// <summary>What the requests of one invocation between the bootstrap and ClickHouse were: how many, how many waves, inserts per table.</summary>
internal sealed record RequestAnatomy(int Requests, int Waves, IReadOnlyDictionary<string, int> InsertsByTable);

/// <summary>
/// Sequential round trips from request start/end times. A wave is a maximal run of requests that overlap in time (the
/// union of their intervals is one stretch): between two waves nothing was in flight, so the second could not start
/// before the first ended. Waves = the round trips an invocation waits for one after the other.
/// </summary>
internal static partial class RoundTrips
{
    public static int Waves(IEnumerable<(double Start, double End)> requests)
    {
        var waves = 0;
        var end = double.NegativeInfinity;
        foreach (var (start, stop) in requests.OrderBy(r => r.Start))
        {
            if (start >= end)
            {
                waves++;
                end = stop;
            }
            else
            {
                end = Math.Max(end, stop);
            }
        }

        return waves;
    }

    /// <summary>The table an <c>INSERT INTO [db.]table</c> statement writes (backquotes removed), or null for any other request.</summary>
    public static string? InsertTable(string head)
    {
        var m = InsertInto().Match(head);
        return m.Success ? m.Groups["table"].Value : null;
    }

    public static RequestAnatomy Of(IReadOnlyCollection<HttpExchange> exchanges)
    {
        var inserts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in exchanges)
        {
            if (InsertTable(e.Head) is { } table)
            {
                inserts[table] = inserts.GetValueOrDefault(table) + 1;
            }
        }

        return new RequestAnatomy(exchanges.Count, Waves(exchanges.Select(e => (e.StartMs, e.EndMs))), inserts);
    }

    [GeneratedRegex(@"INSERT\s+INTO\s+(?:`?[A-Za-z0-9_]+`?\.)?`?(?<table>[A-Za-z0-9_]+)`?", RegexOptions.IgnoreCase)]
    private static partial Regex InsertInto();
}
