using MskClickHouse.Core.Errors;





namespace MskClickHouse.Core.Configuration;

/// <summary>
/// Where the function looks up the writer schemas of framed values (VALUE_FORMAT avro, protobuf, json-schema).
/// Immutable; parsed by <see cref="Parse"/> from SCHEMA_REGISTRY_URL, SCHEMA_REGISTRY_USER,
/// SCHEMA_REGISTRY_PASSWORD_SECRET_ARN, GLUE_ENDPOINT_URL and GLUE_REGISTRY_ARN.
/// </summary>
public sealed record SchemaRegistryOptions
{
    public static readonly SchemaRegistryOptions None = new();

    /// <summary>Confluent-compatible REST endpoint (Confluent Platform/Cloud, Redpanda, Apicurio's ccompat API, Karapace).</summary>
    public Uri? ConfluentUrl { get; init; }

    /// <summary>Basic-auth user of the Confluent registry (with the password from <see cref="PasswordSecretArn"/>).</summary>
    public string? User { get; init; }

    /// <summary>Secrets Manager secret holding the registry password (plain text, or JSON with a "password" key).</summary>
    public string? PasswordSecretArn { get; init; }

    /// <summary>Overrides the regional Glue endpoint (VPC endpoints, tests).</summary>
    public Uri? GlueEndpoint { get; init; }

    /// <summary>The Glue registry the role may read (informational: the template scopes IAM to it).</summary>
    public string? GlueRegistryArn { get; init; }

    /// <summary>Never print the secret's value (it is not held here anyway) nor any credential in the URL.</summary>
    public override string ToString() =>
        $"SchemaRegistryOptions {{ ConfluentUrl = {ConfluentUrl?.GetLeftPart(UriPartial.Path) ?? "unset"}, User = {User ?? "unset"}, " +
        $"PasswordSecretArn = {PasswordSecretArn ?? "unset"}, GlueEndpoint = {GlueEndpoint?.ToString() ?? "regional"}, GlueRegistryArn = {GlueRegistryArn ?? "unset"} }}";

    /// <summary>Parses the variables; <paramref name="get"/> returns a trimmed value or null when unset/blank.</summary>
    public static SchemaRegistryOptions Parse(Func<string, string?> get)
    {
        ArgumentNullException.ThrowIfNull(get);
        var url = HttpUrl("SCHEMA_REGISTRY_URL", get("SCHEMA_REGISTRY_URL"), "the Confluent-compatible schema registry, e.g. https://psrc-abc.eu-west-1.aws.confluent.cloud");
        var user = get("SCHEMA_REGISTRY_USER");
        var secret = get("SCHEMA_REGISTRY_PASSWORD_SECRET_ARN");
        if (secret is not null && !(secret.StartsWith("arn:", StringComparison.Ordinal) && secret.Contains(":secretsmanager:", StringComparison.Ordinal)))
        {
            throw new ConfigurationException("SCHEMA_REGISTRY_PASSWORD_SECRET_ARN", $"expected a Secrets Manager ARN (arn:aws:secretsmanager:region:account:secret:name), got '{secret}'");
        }

        if (user is not null && secret is null)
        {
            throw new ConfigurationException("SCHEMA_REGISTRY_PASSWORD_SECRET_ARN", "missing: SCHEMA_REGISTRY_USER is set, so the registry password's secret is needed too");
        }

        if (secret is not null && user is null)
        {
            throw new ConfigurationException("SCHEMA_REGISTRY_USER", "missing: SCHEMA_REGISTRY_PASSWORD_SECRET_ARN is set, so the registry user is needed too");
        }

        if ((user is not null) && url is null)
        {
            throw new ConfigurationException("SCHEMA_REGISTRY_URL", "missing: SCHEMA_REGISTRY_USER is set but there is no registry URL to use it with");
        }

        var glueArn = get("GLUE_REGISTRY_ARN");
        if (glueArn is not null && !(glueArn.StartsWith("arn:", StringComparison.Ordinal) && glueArn.Contains(":glue:", StringComparison.Ordinal)))
        {
            throw new ConfigurationException("GLUE_REGISTRY_ARN", $"expected a Glue registry ARN (arn:aws:glue:region:account:registry/name), got '{glueArn}'");
        }

        return new SchemaRegistryOptions
        {
            ConfluentUrl = url,
            User = user,
            PasswordSecretArn = secret,
            GlueEndpoint = HttpUrl("GLUE_ENDPOINT_URL", get("GLUE_ENDPOINT_URL"), "the Glue endpoint, e.g. https://glue.eu-west-1.amazonaws.com"),
            GlueRegistryArn = glueArn,
        };
    }

    private static Uri? HttpUrl(string variable, string? value, string expected)
    {
        if (value is null)
        {
            return null;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ConfigurationException(variable, $"expected an absolute http:// or https:// URL ({expected}), got '{value}'");
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            throw new ConfigurationException(variable, "must not carry credentials; use SCHEMA_REGISTRY_USER and SCHEMA_REGISTRY_PASSWORD_SECRET_ARN");
        }

        return uri;
    }
}
