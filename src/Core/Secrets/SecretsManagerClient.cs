using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using MskClickHouse.Core.Errors;

namespace MskClickHouse.Core.Secrets;

/// <summary>GetSecretValue request body.</summary>
internal sealed record GetSecretValueRequest([property: JsonPropertyName("SecretId")] string SecretId);

/// <summary>The parts of GetSecretValue's answer the sink reads.</summary>
internal sealed record GetSecretValueResponse
{
    [JsonPropertyName("SecretString")]
    public string? SecretString { get; init; }

    [JsonPropertyName("SecretBinary")]
    public string? SecretBinary { get; init; }
}

/// <summary>An AWS JSON-protocol error: <c>{"__type":"...#ResourceNotFoundException","Message":"..."}</c>.</summary>
internal sealed record AwsErrorResponse
{
    [JsonPropertyName("__type")]
    public string? Type { get; init; }

    [JsonPropertyName("Message")]
    public string? Message { get; init; }

    [JsonPropertyName("message")]
    public string? LowerMessage { get; init; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GetSecretValueRequest))]
[JsonSerializable(typeof(GetSecretValueResponse))]
[JsonSerializable(typeof(AwsErrorResponse))]
internal sealed partial class SecretsJsonContext : JsonSerializerContext;

/// <summary>Fetching the secret failed in a way that may pass on retry (network, throttling, 5xx).</summary>
public sealed class SecretFetchException : SinkException
{
    public SecretFetchException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    public override bool IsRetryable => true;
}

/// <summary>
/// Secrets Manager's GetSecretValue over plain HTTPS with SigV4 (no AWS SDK: it is not on this build's feed, and it is
/// big for a Native AOT cold start). Errors are <see cref="ConfigurationException"/>s naming
/// CLICKHOUSE_PASSWORD_SECRET_ARN when retrying cannot help (access denied, not found), else <see cref="SecretFetchException"/>.
/// </summary>
public sealed class SecretsManagerClient
{
    public const string Variable = "CLICKHOUSE_PASSWORD_SECRET_ARN";
    private const string Service = "secretsmanager";

    private readonly AwsJsonClient _aws;
    private readonly TimeProvider _time;

    public SecretsManagerClient(HttpClient http, AwsCredentials credentials, string region, Uri endpoint, TimeProvider? time = null)
    {
        _aws = new AwsJsonClient(http, credentials, region, endpoint, Service, "Secrets Manager", time);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>https://secretsmanager.{region}.amazonaws.com (amazonaws.com.cn in China regions).</summary>
    public static Uri DefaultEndpoint(string region) => AwsJsonClient.DefaultEndpoint(Service, region);

    /// <summary>The secret's SecretString. Tries up to <paramref name="attempts"/> times when the failure is transient.</summary>
    public async Task<string> GetSecretStringAsync(string secretId, CancellationToken cancellationToken, int attempts = 3)
    {
        ArgumentException.ThrowIfNullOrEmpty(secretId);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await GetOnceAsync(secretId, cancellationToken);
            }
            catch (SecretFetchException) when (attempt < attempts)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt * attempt), _time, cancellationToken);
            }
        }
    }

    private async Task<string> GetOnceAsync(string secretId, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new GetSecretValueRequest(secretId), SecretsJsonContext.Default.GetSecretValueRequest);
        using var response = await _aws.SendAsync("secretsmanager.GetSecretValue", body, string.Empty, (message, e) => new SecretFetchException($"{Variable}: {message}", e), cancellationToken);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            GetSecretValueResponse? value;
            try
            {
                value = JsonSerializer.Deserialize(bytes, SecretsJsonContext.Default.GetSecretValueResponse);
            }
            catch (JsonException e)
            {
                throw new SecretFetchException($"{Variable}: Secrets Manager answered {(int)response.StatusCode} with a body that is not JSON", e);
            }

            if (value?.SecretString is { } secret)
            {
                return secret;
            }

            throw new ConfigurationException(Variable, value?.SecretBinary is not null
                ? $"secret '{secretId}' holds binary data; store the password as a string or as JSON with a \"password\" field"
                : $"secret '{secretId}' has no SecretString");
        }

        throw Failure(secretId, response.StatusCode, bytes);
    }

    private static SinkException Failure(string secretId, HttpStatusCode status, byte[] body)
    {
        AwsErrorResponse? error = null;
        try
        {
            error = body.Length > 0 ? JsonSerializer.Deserialize(body, SecretsJsonContext.Default.AwsErrorResponse) : null;
        }
        catch (JsonException)
        {
            // Not an AWS JSON error (a proxy's HTML page, say): report the status alone.
        }

        var type = error?.Type is { } t ? t[(t.LastIndexOf('#') + 1)..] : null;
        var message = error?.Message ?? error?.LowerMessage;
        var detail = $"Secrets Manager answered {(int)status}{(type is null ? string.Empty : " " + type)}{(message is null ? string.Empty : ": " + message)}";
        return type switch
        {
            "AccessDeniedException" or "AccessDenied" or "UnrecognizedClientException" or "InvalidSignatureException"
                or "IncompleteSignature" or "MissingAuthenticationToken" or "ExpiredTokenException" =>
                new ConfigurationException(Variable, $"access denied to secret '{secretId}' ({detail}); grant the function's role secretsmanager:GetSecretValue on it (and kms:Decrypt on its key)"),
            "ResourceNotFoundException" =>
                new ConfigurationException(Variable, $"secret '{secretId}' not found ({detail}); check the ARN and the region"),
            "DecryptionFailure" =>
                new ConfigurationException(Variable, $"secret '{secretId}' could not be decrypted ({detail}); grant kms:Decrypt on its key"),
            "InvalidParameterException" or "InvalidRequestException" =>
                new ConfigurationException(Variable, $"secret '{secretId}' cannot be read ({detail})"),
            _ when status == HttpStatusCode.Forbidden =>
                new ConfigurationException(Variable, $"access denied to secret '{secretId}' ({detail}); grant the function's role secretsmanager:GetSecretValue on it"),
            _ => new SecretFetchException($"{Variable}: fetching secret '{secretId}' failed: {detail}"),
        };
    }
}
