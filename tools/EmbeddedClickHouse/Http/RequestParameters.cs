using Microsoft.AspNetCore.Http;

namespace MskClickHouse.EmbeddedClickHouse.Http;

/// <summary>
/// The URL parameters of one request, split the way ClickHouse's HTTP handler splits them:
/// a fixed set of parameters the interface itself understands, <c>param_*</c> query parameters,
/// and everything else, which is a setting for this request only.
/// </summary>
internal sealed class RequestParameters
{
    /// <summary>Parameters that are not settings. enable_http_compression is a real ClickHouse setting,
    /// but only the HTTP layer acts on it, so it is taken here and not sent to the engine.</summary>
    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "query", "database", "default_format", "query_id", "session_id", "session_timeout", "session_check",
        "role", "user", "password", "quota_key", "compress", "decompress", "buffer_size", "wait_end_of_query",
        "enable_http_compression", "stacktrace", "close_session",
    };

    private RequestParameters()
    {
    }

    public string? Query { get; private init; }

    public string? Database { get; private init; }

    public string DefaultFormat { get; private init; } = "TabSeparated";

    public string? QueryId { get; private init; }

    public string? User { get; private init; }

    public string? Password { get; private init; }

    public bool EnableHttpCompression { get; private init; }

    public IReadOnlyList<KeyValuePair<string, string>> Settings { get; private init; } = [];

    /// <summary>Values for <c>{name:Type}</c> placeholders, without the <c>param_</c> prefix.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> QueryParameters { get; private init; } = [];

    public static RequestParameters From(IQueryCollection query)
    {
        string? Single(string name) => query.TryGetValue(name, out var v) ? v.ToString() : null;
        var settings = new List<KeyValuePair<string, string>>();
        var parameters = new List<KeyValuePair<string, string>>();
        foreach (var (name, values) in query)
        {
            var value = values.ToString();
            if (name.StartsWith("param_", StringComparison.Ordinal))
            {
                parameters.Add(new(name["param_".Length..], value));
            }
            else if (!Reserved.Contains(name))
            {
                settings.Add(new(name, value));
            }
        }

        var defaultFormat = Single("default_format");
        return new RequestParameters
        {
            Query = Single("query"),
            Database = Single("database"),
            DefaultFormat = string.IsNullOrEmpty(defaultFormat) ? "TabSeparated" : defaultFormat,
            QueryId = Single("query_id"),
            User = Single("user"),
            Password = Single("password"),
            EnableHttpCompression = Single("enable_http_compression") is "1" or "true",
            Settings = settings,
            QueryParameters = parameters,
        };
    }
}
