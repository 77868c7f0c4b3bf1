using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Errors;
using MskClickHouse.Core.Secrets;





namespace MskClickHouse.Core.Formats.Registry;

/// <summary>
/// Builds the sandbox's <see cref="SchemaCache"/> at init: the Confluent client (with the basic-auth password fetched
/// once from SCHEMA_REGISTRY_PASSWORD_SECRET_ARN) when SCHEMA_REGISTRY_URL is set, and the Glue client whenever the
/// function has AWS credentials and a region (always, on Lambda).
/// </summary>
public static class SchemaRegistryFactory
{
    public static async Task<SchemaCache> CreateAsync(
        SchemaRegistryOptions options,
        IReadOnlyDictionary<string, string?> env,
        CancellationToken cancellationToken,
        HttpMessageHandler? handler = null,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(env);
        var http = new HttpClient(handler ?? new SocketsHttpHandler { UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) }, disposeHandler: handler is null)
        {
            Timeout = TimeSpan.FromSeconds(10),
        };
        var credentials = AwsCredentials.FromEnvironment(env);
        var region = Get(env, "AWS_REGION") ?? Get(env, "AWS_DEFAULT_REGION");

        ConfluentRegistryClient? confluent = null;
        if (options.ConfluentUrl is { } url)
        {
            string? password = null;
            if (options.PasswordSecretArn is { } arn)
            {
                password = await FetchPasswordAsync(arn, credentials, region, env, http, time, cancellationToken);
            }

            confluent = new ConfluentRegistryClient(http, url, options.User, password);
        }

        GlueRegistryClient? glue = null;
        if (credentials is not null && region is not null)
        {
            glue = new GlueRegistryClient(http, credentials, region, options.GlueEndpoint ?? GlueRegistryClient.DefaultEndpoint(region), time);
        }
        else if (options.GlueEndpoint is not null)
        {
            throw new ConfigurationException("GLUE_ENDPOINT_URL", "is set but AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION are not: no credentials to sign Glue requests with");
        }

        return new SchemaCache(confluent, glue, time);
    }

    private static async Task<string> FetchPasswordAsync(string arn, AwsCredentials? credentials, string? region, IReadOnlyDictionary<string, string?> env, HttpClient http, TimeProvider? time, CancellationToken ct)
    {
        const string Variable = "SCHEMA_REGISTRY_PASSWORD_SECRET_ARN";
        if (credentials is null)
        {
            throw new ConfigurationException(Variable, "is set but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not: no credentials to call Secrets Manager with");
        }

        region = PasswordResolver.RegionOf(arn) ?? region ?? throw new ConfigurationException(Variable, $"cannot tell the region: '{arn}' names none and AWS_REGION is not set");
        var endpoint = Get(env, PasswordResolver.EndpointVariable) is { } custom && Uri.TryCreate(custom, UriKind.Absolute, out var uri) ? uri : SecretsManagerClient.DefaultEndpoint(region);
        try
        {
            var client = new SecretsManagerClient(http, credentials, region, endpoint, time);
            return PasswordResolver.PasswordOf(await client.GetSecretStringAsync(arn, ct), arn);
        }
        catch (ConfigurationException e)
        {
            // The Secrets Manager client names the ClickHouse variable; this secret is the registry's.
            throw new ConfigurationException(Variable, e.Message.Replace(SecretsManagerClient.Variable + ": ", string.Empty, StringComparison.Ordinal));
        }
    }

    private static string? Get(IReadOnlyDictionary<string, string?> env, string name) =>
        env.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
}
