using System.Text.Json.Nodes;
using Xunit;
using static MskClickHouse.Template.Tests.SamTranslation;

namespace MskClickHouse.Template.Tests;

/// <summary>
/// Impossible parameter combinations fail when CloudFormation creates the change set (Rules, parameter constraints),
/// before the NAT gateway or anything else exists - never half-way through a deploy.
/// </summary>
public class RulesTests
{
    private const string Secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:msk-AbCdEf";
    private const string KmsKey = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    private static readonly Dictionary<string, (Dictionary<string, JsonNode?> Parameters, string Expected)> Refused = new(StringComparer.Ordinal)
    {
        ["scram without secret"] = (With(("BrokerAuthentication", "SASL_SCRAM_512"), ("SecretsKmsKeyArn", KmsKey)), "ScramNeedsSecretAndCustomerManagedKey: BrokerAuthentication SASL_SCRAM_512 needs BrokerAuthSecretArn"),
        ["scram without customer-managed key"] = (With(("BrokerAuthentication", "SASL_SCRAM_512"), ("BrokerAuthSecretArn", Secret)), "needs SecretsKmsKeyArn"),
        ["mtls without secret"] = (With(("BrokerAuthentication", "MTLS")), "MtlsNeedsSecret"),
        ["sqs destination without arn"] = (With(("OnFailureDestinationType", "SQS")), "OnFailureDestinationNeedsArn"),
        ["s3 destination without arn"] = (With(("OnFailureDestinationType", "S3")), "OnFailureDestinationNeedsArn"),
        ["mapping registry without uri"] = (With(("SchemaRegistryType", "GLUE")), "MappingSchemaRegistryNeedsUri"),
        ["existing vpc without vpc"] = (With(("CreateVpc", "false"), ("SubnetIds", new JsonArray("subnet-0a", "subnet-0b"))), "CreateVpc=false needs VpcId"),
        ["existing vpc without subnets"] = (With(("CreateVpc", "false"), ("VpcId", "vpc-0abc")), "CreateVpc=false needs SubnetIds"),
        ["record age 0"] = (With(("MaximumRecordAgeInSeconds", "0")), "RecordAgeIsMinusOneOrAtLeastSixty"),
        ["record age 59"] = (With(("MaximumRecordAgeInSeconds", "59")), "RecordAgeIsMinusOneOrAtLeastSixty"),
        ["placeholder topic"] = (With(("Topics", new JsonArray("orders", "REPLACE_ME_TOPIC"))), "Topics still holds the placeholder REPLACE_ME_TOPIC"),
        ["glue registry on demand"] = (With(("SchemaRegistryType", "GLUE"), ("SchemaRegistryUri", "arn:aws:glue:eu-west-1:123456789012:registry/kafka"), ("PollerMode", "ON_DEMAND")), "SchemaRegistryNeedsProvisionedPollers: SchemaRegistryType GLUE or CONFLUENT needs PollerMode PROVISIONED"),
        ["confluent registry on demand"] = (With(("SchemaRegistryType", "CONFLUENT"), ("SchemaRegistryUri", "https://registry.example.com"), ("PollerMode", "ON_DEMAND")), "SchemaRegistryNeedsProvisionedPollers"),
        ["at timestamp without timestamp"] = (With(("StartingPosition", "AT_TIMESTAMP")), "AtTimestampNeedsTimestamp"),
    };

    private static readonly Dictionary<string, (Dictionary<string, JsonNode?> Parameters, string Expected)> OutOfRange = new(StringComparer.Ordinal)
    {
        ["record age above a week"] = (With(("MaximumRecordAgeInSeconds", "604801")), "MaximumRecordAgeInSeconds: 604801 is above MaxValue 604800"),
        ["record age below -1"] = (With(("MaximumRecordAgeInSeconds", "-2")), "MaximumRecordAgeInSeconds: -2 is below MinValue -1"),
        ["retries above 10000"] = (With(("MaximumRetryAttempts", "10001")), "MaximumRetryAttempts: 10001 is above MaxValue 10000"),
        ["zero minimum pollers"] = (With(("MinimumPollers", "0")), "MinimumPollers: 0 is below MinValue 1"),
        ["batch size above 10000"] = (With(("BatchSize", "10001")), "BatchSize: 10001 is above MaxValue 10000"),
        ["timeout above the MSK limit"] = (With(("Timeout", "841")), "Timeout: 841 is above MaxValue 840"),
        ["unknown poller mode"] = (With(("PollerMode", "AUTO")), "PollerMode: 'AUTO' is not one of"),
        ["secret that is not an arn"] = (With(("BrokerAuthSecretArn", "my-secret")), "BrokerAuthSecretArn: 'my-secret' does not match"),
        ["kms key that is not a key arn"] = (With(("SecretsKmsKeyArn", "alias/aws/secretsmanager")), "SecretsKmsKeyArn: 'alias/aws/secretsmanager' does not match"),
        ["glue registry that is not a registry arn"] = (With(("GlueRegistryArn", "arn:aws:glue:eu-west-1:123456789012:schema/kafka/orders")), "GlueRegistryArn:"),
        ["consumer group with a space"] = (With(("ConsumerGroupId", "my group")), "ConsumerGroupId: 'my group' does not match"),
        ["empty topic entry"] = (With(("Topics", new JsonArray("orders", ""))), "Topics: '' does not match"),
        ["consumer group base over 50 characters"] = (With(("ConsumerGroupId", new string('g', 51))), "ConsumerGroupId: 'ggg"),
    };

    private static readonly Dictionary<string, Dictionary<string, JsonNode?>> Accepted = new(StringComparer.Ordinal)
    {
        ["record age -1"] = With(("MaximumRecordAgeInSeconds", "-1")),
        ["record age 60"] = With(("MaximumRecordAgeInSeconds", "60")),
        ["record age a week"] = With(("MaximumRecordAgeInSeconds", "604800")),
        ["scram with secret and key"] = With(("BrokerAuthentication", "SASL_SCRAM_512"), ("BrokerAuthSecretArn", Secret), ("SecretsKmsKeyArn", KmsKey)),
        ["registry provisioned"] = With(("SchemaRegistryType", "CONFLUENT"), ("SchemaRegistryUri", "https://registry.example.com"), ("PollerMode", "PROVISIONED")),
        ["at timestamp with timestamp"] = With(("StartingPosition", "AT_TIMESTAMP"), ("StartingPositionTimestamp", "1764082800")),
        ["consumer group base of 50 characters"] = With(("ConsumerGroupId", new string('g', 50))),
        ["existing vpc with vpc and subnets"] = With(("CreateVpc", "false"), ("VpcId", "vpc-0abc"), ("SubnetIds", new JsonArray("subnet-0a", "subnet-0b"))),
    };

    private static readonly Lazy<IReadOnlyDictionary<string, Deployment>> Deployed = new(() =>
        Deploy(Refused.ToDictionary(kv => "refused: " + kv.Key, kv => kv.Value.Parameters)
            .Concat(OutOfRange.ToDictionary(kv => "range: " + kv.Key, kv => kv.Value.Parameters))
            .Concat(Accepted.ToDictionary(kv => "accepted: " + kv.Key, kv => kv.Value))
            .ToDictionary(kv => kv.Key, kv => kv.Value)));

    public static TheoryData<string> RefusedNames => new(Refused.Keys);

    public static TheoryData<string> OutOfRangeNames => new(OutOfRange.Keys);

    public static TheoryData<string> AcceptedNames => new(Accepted.Keys);

    [Theory]
    [MemberData(nameof(RefusedNames))]
    public void Rules_RefuseImpossibleCombinations(string name)
    {
        var d = Deployed.Value["refused: " + name];
        Assert.Empty(d.ParameterErrors);
        Assert.Contains(d.RuleFailures, f => f.Contains(Refused[name].Expected, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(OutOfRangeNames))]
    public void Parameters_RefuseValuesOutsideWhatLambdaAccepts(string name)
    {
        var d = Deployed.Value["range: " + name];
        Assert.Contains(d.ParameterErrors, f => f.Contains(OutOfRange[name].Expected, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(AcceptedNames))]
    public void Rules_AcceptTheBoundaries(string name)
    {
        var d = Deployed.Value["accepted: " + name];
        Assert.Empty(d.ParameterErrors);
        Assert.Empty(d.RuleFailures);
        Assert.Null(d.Rejected);
    }
}
