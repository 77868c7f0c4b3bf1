using System.Text.Json;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Errors;

namespace MskClickHouse.Core.Secrets;

/// <summary>
/// Fills <see cref="SinkOptions.Password"/> from CLICKHOUSE_PASSWORD_SECRET_ARN at init. The secret is the password
/// itself, or JSON with a "password" field (as RDS-style secrets are). Region from the ARN, else AWS_REGION;
/// endpoint SECRETS_MANAGER_ENDPOINT if set (tests, VPC endpoints), else Secrets Manager's regional endpoint.
/// </summary>
public static class PasswordResolver
{
    public const string EndpointVariable = "SECRETS_MANAGER_ENDPOINT";

    /// <summary>The options with the password filled; the same options when no secret is configured.</summary>
    public static async Task<SinkOptions> ResolveAsync(
        SinkOptions options,
        IReadOnlyDictionary<string, string?> env,
        CancellationToken cancellationToken,
        HttpMessageHandler? handler = null,
        TimeProvider? time = null)
    {
        var fetch = Fetcher(options, env, handler, time);
        return fetch is null ? options : options with { Password = await fetch(cancellationToken) };
    }

    /// <summary>
    /// A function that reads the password from CLICKHOUSE_PASSWORD_SECRET_ARN (each call asks Secrets Manager again:
    /// used at start-up and when ClickHouse refuses a rotated password); null when no secret is configured.
    /// </summary>
    public static Func<CancellationToken, Task<string>>? Fetcher(
        SinkOptions options,
        IReadOnlyDictionary<string, string?> env,
        HttpMessageHandler? handler = null,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(env);
        if (options.PasswordSecretArn is not { } arn)
        {
            return null;
        }

        var credentials = AwsCredentials.FromEnvironment(env)
            ?? throw new ConfigurationException(SecretsManagerClient.Variable, "is set but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not: no credentials to call Secrets Manager with (Lambda sets them from the function's role)");
        var region = RegionOf(arn) ?? Get(env, "AWS_REGION") ?? Get(env, "AWS_DEFAULT_REGION")
            ?? throw new ConfigurationException(SecretsManagerClient.Variable, $"cannot tell the region: '{arn}' names none and AWS_REGION is not set");
        var endpoint = SecretsManagerClient.DefaultEndpoint(region);
        if (Get(env, EndpointVariable) is { } custom)
        {
            if (!Uri.TryCreate(custom, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            {
                throw new ConfigurationException(EndpointVariable, "expected an absolute http(s) URL");
            }

            endpoint = uri;
        }

        return async cancellationToken =>
        {
            using var http = new HttpClient(handler ?? new SocketsHttpHandler { UseCookies = false }, disposeHandler: handler is null)
            {
                Timeout = TimeSpan.FromSeconds(10),
            };
            var client = new SecretsManagerClient(http, credentials, region, endpoint, time);
            var secret = await client.GetSecretStringAsync(arn, cancellationToken);
            return PasswordOf(secret, arn);
        };
    }

    /// <summary>The password in a secret string: the string itself, or the "password" field of a JSON object.</summary>
    public static string PasswordOf(string secret, string secretId)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var trimmed = secret.AsSpan().Trim();
        if (trimmed.Length == 0 || trimmed[0] != '{')
        {
            if (secret.Length == 0)
            {
                throw new ConfigurationException(SecretsManagerClient.Variable, $"secret '{secretId}' is empty");
            }

            return secret;
        }

        try
        {
            using var document = JsonDocument.Parse(secret);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name.Equals("password", StringComparison.OrdinalIgnoreCase))
                {
                    return property.Value.ValueKind == JsonValueKind.String
                        ? property.Value.GetString()!
                        : throw new ConfigurationException(SecretsManagerClient.Variable, $"secret '{secretId}': its \"password\" field is not a string");
                }
            }
        }
        catch (JsonException)
        {
            // Looks like JSON but is not: a password may start with '{'. Take it as it is.
            return secret;
        }

        // Never echo the secret's content: only the names it has would help, and even they may be sensitive.
        throw new ConfigurationException(SecretsManagerClient.Variable, $"secret '{secretId}' is a JSON object without a \"password\" field");
    }

    /// <summary>arn:partition:secretsmanager:REGION:account:secret:name → REGION.</summary>
    public static string? RegionOf(string arn)
    {
        ArgumentNullException.ThrowIfNull(arn);
        var parts = arn.Split(':');
        return parts.Length >= 6 && parts[0] == "arn" && parts[3].Length > 0 ? parts[3] : null;
    }

    private static string? Get(IReadOnlyDictionary<string, string?> env, string name) =>
        env.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
}
