namespace MskClickHouse.Core.Secrets;

/// <summary>AWS credentials as Lambda puts them in the environment. <see cref="ToString"/> never prints the secret parts.</summary>
public sealed record AwsCredentials(string AccessKeyId, string SecretAccessKey, string? SessionToken = null)
{
    /// <summary>AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; null when the first two are not both set.</summary>
    public static AwsCredentials? FromEnvironment(IReadOnlyDictionary<string, string?> env)
    {
        ArgumentNullException.ThrowIfNull(env);
        string? Get(string name) => env.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        var id = Get("AWS_ACCESS_KEY_ID");
        var secret = Get("AWS_SECRET_ACCESS_KEY");
        return id is null || secret is null ? null : new AwsCredentials(id, secret, Get("AWS_SESSION_TOKEN"));
    }

    public override string ToString() => $"AwsCredentials {{ AccessKeyId = {AccessKeyId}, SecretAccessKey = ***, SessionToken = {(SessionToken is null ? "unset" : "***")} }}";
}
