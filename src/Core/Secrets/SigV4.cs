using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace MskClickHouse.Core.Secrets;

/// <summary>An HTTP request to sign. Path is the unencoded absolute path; query pairs are unencoded.</summary>
public sealed record SigV4Request(
    string Method,
    string Host,
    string Path,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    ReadOnlyMemory<byte> Payload,
    IReadOnlyList<KeyValuePair<string, string>>? Query = null);

/// <summary>The signature and the headers to add to the request (X-Amz-Date, Authorization, X-Amz-Security-Token when a session token is used).</summary>
public sealed record SigV4Signature(string Authorization, string AmzDate, string CanonicalRequest, string StringToSign, string SignedHeaders);

/// <summary>
/// AWS Signature Version 4 (header signing, HMAC-SHA256), a pure function of the request, credentials and time.
/// Host and X-Amz-Date are always signed; X-Amz-Security-Token too when the credentials carry a session token.
/// Paths are URI-encoded once per segment (right for every service but S3 double-encoding, which this does not need).
/// </summary>
public static class SigV4
{
    public const string Algorithm = "AWS4-HMAC-SHA256";

    public static SigV4Signature Sign(SigV4Request request, AwsCredentials credentials, string region, string service, DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentException.ThrowIfNullOrEmpty(region);
        ArgumentException.ThrowIfNullOrEmpty(service);

        var utc = time.UtcDateTime;
        var amzDate = utc.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var day = utc.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

        // Canonical headers: lower-case names, values trimmed with inner runs of spaces collapsed,
        // repeated names joined with ',' in the order given, sorted by name.
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal);
        void Add(string name, string value)
        {
            var key = name.Trim().ToLowerInvariant();
            var normal = CollapseSpaces(value);
            headers[key] = headers.TryGetValue(key, out var existing) ? existing + "," + normal : normal;
        }

        var hasHost = false;
        foreach (var (name, value) in request.Headers)
        {
            if (name.Equals("x-amz-date", StringComparison.OrdinalIgnoreCase) || name.Equals("authorization", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            hasHost |= name.Equals("host", StringComparison.OrdinalIgnoreCase);
            Add(name, value);
        }

        if (!hasHost)
        {
            Add("host", request.Host);
        }

        Add("x-amz-date", amzDate);
        if (credentials.SessionToken is { } token && !headers.ContainsKey("x-amz-security-token"))
        {
            Add("x-amz-security-token", token);
        }

        var signedHeaders = string.Join(';', headers.Keys);
        var canonical = new StringBuilder(512);
        canonical.Append(request.Method.ToUpperInvariant()).Append('\n');
        canonical.Append(CanonicalPath(request.Path)).Append('\n');
        canonical.Append(CanonicalQuery(request.Query)).Append('\n');
        foreach (var (name, value) in headers)
        {
            canonical.Append(name).Append(':').Append(value).Append('\n');
        }

        canonical.Append('\n').Append(signedHeaders).Append('\n');
        canonical.Append(Hex(SHA256.HashData(request.Payload.Span)));
        var canonicalRequest = canonical.ToString();

        var scope = $"{day}/{region}/{service}/aws4_request";
        var stringToSign = $"{Algorithm}\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";

        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + credentials.SecretAccessKey), day);
        key = Hmac(key, region);
        key = Hmac(key, service);
        key = Hmac(key, "aws4_request");
        var signature = Hex(Hmac(key, stringToSign));

        var authorization = $"{Algorithm} Credential={credentials.AccessKeyId}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}";
        return new SigV4Signature(authorization, amzDate, canonicalRequest, stringToSign, signedHeaders);
    }

    /// <summary>RFC 3986 percent-encoding of everything but unreserved characters (A-Z a-z 0-9 - _ . ~), upper-case hex.</summary>
    public static string UriEncode(string value, bool keepSlash = false)
    {
        ArgumentNullException.ThrowIfNull(value);
        var builder = new StringBuilder(value.Length * 2);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in value.EnumerateRunes())
        {
            var c = rune.Value;
            if (c < 128 && (char.IsAsciiLetterOrDigit((char)c) || c is '-' or '_' or '.' or '~' || (keepSlash && c == '/')))
            {
                builder.Append((char)c);
                continue;
            }

            var n = rune.EncodeToUtf8(utf8);
            for (var i = 0; i < n; i++)
            {
                builder.Append('%').Append(utf8[i].ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    private static string CanonicalPath(string path) =>
        string.IsNullOrEmpty(path) ? "/" : UriEncode(path.StartsWith('/') ? path : "/" + path, keepSlash: true);

    private static string CanonicalQuery(IReadOnlyList<KeyValuePair<string, string>>? query)
    {
        if (query is null || query.Count == 0)
        {
            return string.Empty;
        }

        var pairs = query.Select(p => (Key: UriEncode(p.Key), Value: UriEncode(p.Value)))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .ThenBy(p => p.Value, StringComparer.Ordinal);
        return string.Join('&', pairs.Select(p => p.Key + "=" + p.Value));
    }

    private static string CollapseSpaces(string value)
    {
        var builder = new StringBuilder(value.Length);
        var space = false;
        foreach (var c in value.AsSpan().Trim())
        {
            if (c == ' ')
            {
                if (!space)
                {
                    builder.Append(' ');
                }

                space = true;
            }
            else
            {
                builder.Append(c);
                space = false;
            }
        }

        return builder.ToString();
    }

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    private static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);
}
