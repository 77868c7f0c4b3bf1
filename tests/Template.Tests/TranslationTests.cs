using System.Text.Json.Nodes;
using Xunit;
using static MskClickHouse.Template.Tests.SamTranslation;

namespace MskClickHouse.Template.Tests;

/// <summary>
/// Every parameter branch of template.yaml through AWS::LanguageExtensions and AWS's SAM translator, and what
/// CloudFormation would then create: one mapping per topic with the same tuning, the mode's error handling, IAM scoped
/// to exactly the topics, groups, secrets, key and registry given, and the NAT-route wait only with a created VPC.
/// </summary>
public class TranslationTests
{
    private const string Secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:";
    private const string KmsKey = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    private const string GlueRegistry = "arn:aws:glue:eu-west-1:123456789012:registry/kafka";

    private static readonly Dictionary<string, Dictionary<string, JsonNode?>> Cases = new(StringComparer.Ordinal)
    {
        ["iam, provisioned, created VPC, one topic"] = With(),
        ["iam, on-demand, two topics with dash and dot"] = With(("PollerMode", "ON_DEMAND"), ("Topics", new JsonArray("orders-v2", "app.events"))),
        ["scram with customer-managed key, provisioned, three topics, group base"] = With(
            ("BrokerAuthentication", "SASL_SCRAM_512"), ("BrokerAuthSecretArn", Secret + "AmazonMSK_scram-AbCdEf"), ("SecretsKmsKeyArn", KmsKey),
            ("Topics", new JsonArray("ab", "b_c", "d1")), ("ConsumerGroupId", "analytics-sink")),
        ["mtls, on-demand, existing VPC"] = With(
            ("BrokerAuthentication", "MTLS"), ("BrokerAuthSecretArn", Secret + "client-cert-AbCdEf"), ("PollerMode", "ON_DEMAND"),
            ("CreateVpc", "false"), ("VpcId", "vpc-0abc"), ("SubnetIds", new JsonArray("subnet-0a", "subnet-0b"))),
        ["glue registry on the mapping, SQS on-failure destination"] = With(
            ("SchemaRegistryType", "GLUE"), ("SchemaRegistryUri", GlueRegistry), ("OnFailureDestinationType", "SQS"),
            ("OnFailureDestinationArn", "arn:aws:sqs:eu-west-1:123456789012:failed-batches")),
        ["confluent registry with auth on the mapping, S3 destination"] = With(
            ("SchemaRegistryType", "CONFLUENT"), ("SchemaRegistryUri", "https://registry.example.com"), ("SchemaRegistryAuthSecretArn", Secret + "registry-AbCdEf"),
            ("EventRecordFormat", "SOURCE"), ("SchemaValidation", "KEY_AND_VALUE"),
            ("OnFailureDestinationType", "S3"), ("OnFailureDestinationArn", "arn:aws:s3:::failed-batches")),
        ["function-side registry (confluent and glue), SNS destination, existing VPC with own groups"] = With(
            ("ValueFormat", "orders=avro,clicks=protobuf"), ("SchemaRegistryUrl", "https://registry.example.com"), ("SchemaRegistryUser", "sink"),
            ("SchemaRegistryPasswordSecretArn", Secret + "registry-password-AbCdEf"), ("GlueRegistryArn", GlueRegistry),
            ("OnFailureDestinationType", "SNS"), ("OnFailureDestinationArn", "arn:aws:sns:eu-west-1:123456789012:failed"),
            ("CreateVpc", "false"), ("VpcId", "vpc-0abc"), ("SubnetIds", new JsonArray("subnet-0a", "subnet-0b")), ("SecurityGroupIds", new JsonArray("sg-0123"))),
        ["at timestamp, http allowed, secrets manager endpoint, alarms"] = With(
            ("StartingPosition", "AT_TIMESTAMP"), ("StartingPositionTimestamp", "1764082800"), ("ClickHouseAllowHttp", "true"),
            ("ClickHouseUrl", "http://clickhouse.internal:8123"), ("CreateSecretsManagerEndpoint", "true"),
            ("AlarmTopicArn", "arn:aws:sns:eu-west-1:123456789012:alarms"), ("ClickHouseSecondaryPort", "8123")),
    };

    private static readonly Lazy<IReadOnlyDictionary<string, Deployment>> Deployed = new(() => Deploy(Cases));

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    private static string Param(string name, string caseName) =>
        Cases[caseName].TryGetValue(name, out var v) && v is JsonValue ? v.GetValue<string>() : Default(name);

    private static string Default(string name) => Deployed.Value.Values.First().Expanded["Parameters"]![name]!["Default"]!.ToString();

    private static List<string> Topics(string caseName) =>
        Cases[caseName].TryGetValue("Topics", out var t) ? t!.AsArray().Select(x => x!.GetValue<string>()).ToList() : ["orders"];

    private static string LogicalId(string topic) => new(topic.Where(char.IsAsciiLetterOrDigit).ToArray());

    private static string Json(JsonNode? n) => n?.ToJsonString() ?? "null";

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Case_IsAcceptedByParametersRulesLanguageExtensionsAndTheSamTranslator(string caseName)
    {
        var d = Deployed.Value[caseName];
        Assert.True(d.Rejected is null, d.Rejected);
        Assert.Empty(d.ParameterErrors);
        Assert.Empty(d.RuleFailures);
        // The sink, the audit and the replay: one bootstrap, three modes (SINK_MODE).
        Assert.Equal(["AuditFunction", "MskToClickHouseFunction", "ReplayFunction"], d.OfType("AWS::Lambda::Function").Select(f => f.Id).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(d.Resources, kv => kv.Value!["Type"]!.GetValue<string>().StartsWith("AWS::Serverless::", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void EveryTopic_GetsItsOwnMappingWithTheSameTuningAndItsOwnConsumerGroup(string caseName)
    {
        var d = Deployed.Value[caseName];
        var topics = Topics(caseName);
        var mappings = d.OfType("AWS::Lambda::EventSourceMapping").ToDictionary(m => m.Id, m => m.Resource);
        Assert.Equal(topics.Select(t => "MskMapping" + LogicalId(t)).Order(), mappings.Keys.Order());
        var groupBase = Param("ConsumerGroupId", caseName) is { Length: > 0 } g ? g : StackName;

        var tunings = new HashSet<string>(StringComparer.Ordinal);
        foreach (var topic in topics)
        {
            var props = (JsonObject)mappings["MskMapping" + LogicalId(topic)]["Properties"]!.DeepClone();
            Assert.Equal($"[\"{topic}\"]", Json(props["Topics"]));
            Assert.Equal($"{groupBase}-{topic}", props["AmazonManagedKafkaEventSourceConfig"]!["ConsumerGroupId"]!.GetValue<string>());
            Assert.Equal(ClusterArn, props["EventSourceArn"]!.GetValue<string>());
            Assert.Equal("""{"Fn::GetAtt":["MskToClickHouseFunction","Arn"]}""", Json(props["FunctionName"]));
            Assert.Equal(Param("BatchSize", caseName), props["BatchSize"]!.GetValue<string>());
            props.Remove("Topics");
            ((JsonObject)props["AmazonManagedKafkaEventSourceConfig"]!).Remove("ConsumerGroupId");
            tunings.Add(props.ToJsonString());
        }

        Assert.Single(tunings);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void EveryMapping_WaitsForThePolicyGrantingExactlyTheTopicsAndTheStacksGroups(string caseName)
    {
        var d = Deployed.Value[caseName];
        var groupBase = Param("ConsumerGroupId", caseName) is { Length: > 0 } g ? g : StackName;
        var policy = d.OfType("AWS::IAM::RolePolicy").Single().Resource;
        var topicArns = string.Join(",", Topics(caseName).Select(t => $"\"arn:*:kafka:*:*:topic/*/*/{t}\""));
        Assert.Equal(
            $$"""[{"Sid":"ReadTopics","Effect":"Allow","Action":["kafka-cluster:DescribeTopic","kafka-cluster:ReadData"],"Resource":[{{topicArns}}]},""" +
            $$"""{"Sid":"UseConsumerGroups","Effect":"Allow","Action":["kafka-cluster:DescribeGroup","kafka-cluster:AlterGroup"],"Resource":"arn:aws:kafka:eu-west-1:123456789012:group/demo/abc-1/{{groupBase}}-*"}]""",
            Json(policy["Properties"]!["PolicyDocument"]!["Statement"]));
        Assert.Equal("""{"Ref":"FunctionRole"}""", Json(policy["Properties"]!["RoleName"]));
        foreach (var topic in Topics(caseName))
        {
            Assert.Equal("\"TopicAccessPolicy\"", Json(d.Resources["MskMapping" + LogicalId(topic)]!["DependsOn"]));
        }

        // No other policy grants a topic or group: the topic wildcard is only usable on the cluster the role may connect to.
        var all = d.Resources.ToJsonString();
        Assert.Equal(Topics(caseName).Count, System.Text.RegularExpressions.Regex.Matches(all, ":topic/").Count);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(all, ":group/"));
        var connect = d.Resources["FunctionPolicy"]!["Properties"]!["PolicyDocument"]!;
        Assert.Contains("""{"Sid":"ConnectToCluster","Effect":"Allow","Action":["kafka-cluster:Connect","kafka-cluster:DescribeClusterDynamicConfiguration"],"Resource":"arn:aws:kafka:eu-west-1:123456789012:cluster/demo/abc-1"}""", Json(connect), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void PollerMode_ProvisionedKeepsPartialBatchResponsesAndErrorControls_OnDemandHasNeither_AndTheFunctionKnows(string caseName)
    {
        var d = Deployed.Value[caseName];
        var mode = Param("PollerMode", caseName);
        var function = (JsonObject)d.Resources["MskToClickHouseFunction"]!;
        Assert.Equal(mode, function["Properties"]!["Environment"]!["Variables"]!["POLLER_MODE"]!.GetValue<string>());
        foreach (var (_, mapping) in d.OfType("AWS::Lambda::EventSourceMapping"))
        {
            var props = (JsonObject)mapping["Properties"]!;
            string[] provisionedOnly = ["ProvisionedPollerConfig", "FunctionResponseTypes", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError"];
            if (mode == "PROVISIONED")
            {
                Assert.Equal("""["ReportBatchItemFailures"]""", Json(props["FunctionResponseTypes"]));
                Assert.Equal($$"""{"MinimumPollers":"{{Param("MinimumPollers", caseName)}}","MaximumPollers":"{{Param("MaximumPollers", caseName)}}"}""", Json(props["ProvisionedPollerConfig"]));
                Assert.All(provisionedOnly, p => Assert.True(props.ContainsKey(p), p));
            }
            else
            {
                Assert.Equal("ON_DEMAND", mode);
                Assert.All(provisionedOnly, p => Assert.False(props.ContainsKey(p), $"{p} in on-demand mode: {Json(props[p])}"));
            }
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void OptionalFeatures_AppearExactlyWhenTheirParametersAreGiven(string caseName)
    {
        var d = Deployed.Value[caseName];
        var mapping = d.OfType("AWS::Lambda::EventSourceMapping").First().Resource["Properties"]!.AsObject();
        var role = Json(d.Resources["FunctionPolicy"]); // the role's permissions but the topics (TopicAccessPolicy)
        var envs = d.OfType("AWS::Lambda::Function").Select(f => f.Resource["Properties"]!["Environment"]!["Variables"]!.AsObject()).ToList();

        var destination = Param("OnFailureDestinationArn", caseName);
        Assert.Equal(destination.Length > 0 ? $$$"""{"OnFailure":{"Destination":"{{{destination}}}"}}""" : "null", Json(mapping["DestinationConfig"]));
        var destinationAction = Param("OnFailureDestinationType", caseName) switch { "SQS" => "sqs:SendMessage", "SNS" => "sns:Publish", "S3" => "s3:PutObject", _ => null };
        Assert.Equal(destinationAction is not null, new[] { "sqs:SendMessage", "sns:Publish", "s3:PutObject" }.Any(a => role.Contains(a, StringComparison.Ordinal)));
        if (destinationAction is not null)
        {
            Assert.Contains(destinationAction, role, StringComparison.Ordinal);
        }

        var auth = Param("BrokerAuthentication", caseName);
        var secret = Param("BrokerAuthSecretArn", caseName);
        Assert.Equal(
            auth switch
            {
                "SASL_SCRAM_512" => $$"""[{"Type":"SASL_SCRAM_512_AUTH","URI":"{{secret}}"}]""",
                "MTLS" => $$"""[{"Type":"CLIENT_CERTIFICATE_TLS_AUTH","URI":"{{secret}}"}]""",
                _ => "null",
            },
            Json(mapping["SourceAccessConfigurations"]));
        Assert.Equal(auth != "IAM", role.Contains("BrokerCredentials", StringComparison.Ordinal));

        var registry = Param("SchemaRegistryType", caseName);
        var registryConfig = mapping["AmazonManagedKafkaEventSourceConfig"]!["SchemaRegistryConfig"];
        Assert.Equal(registry != "NONE", registryConfig is not null);
        if (registryConfig is not null)
        {
            Assert.Equal(Param("SchemaRegistryUri", caseName), registryConfig["SchemaRegistryURI"]!.GetValue<string>());
            Assert.Equal(Param("EventRecordFormat", caseName), registryConfig["EventRecordFormat"]!.GetValue<string>());
        }

        Assert.Equal(registry == "GLUE", role.Contains("glue:GetRegistry", StringComparison.Ordinal));

        // The function-side registry (VALUE_FORMAT avro/protobuf/json-schema), alike in the sink, audit and replay functions.
        foreach (var env in envs)
        {
            Assert.Equal(Param("ValueFormat", caseName), env["VALUE_FORMAT"]!.GetValue<string>());
            foreach (var (variable, parameter) in new[] { ("SCHEMA_REGISTRY_URL", "SchemaRegistryUrl"), ("SCHEMA_REGISTRY_USER", "SchemaRegistryUser"), ("SCHEMA_REGISTRY_PASSWORD_SECRET_ARN", "SchemaRegistryPasswordSecretArn"), ("GLUE_REGISTRY_ARN", "GlueRegistryArn") })
            {
                var value = Param(parameter, caseName);
                Assert.Equal(value.Length > 0 ? value : null, env[variable]?.GetValue<string>());
            }

            Assert.Equal(Param("ClickHouseAllowHttp", caseName), env["CLICKHOUSE_ALLOW_HTTP"]!.GetValue<string>());
        }

        foreach (var r in new[] { role, Json(d.Resources["AuditReplayRole"]) })
        {
            var registryPassword = Param("SchemaRegistryPasswordSecretArn", caseName);
            Assert.Equal(registryPassword.Length > 0, r.Contains($$"""{"Sid":"FunctionSchemaRegistryPassword","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"{{registryPassword}}"}""", StringComparison.Ordinal));
            var glue = Param("GlueRegistryArn", caseName);
            Assert.Equal(
                glue.Length > 0,
                r.Contains($$"""{"Sid":"ReadSchemaVersions","Effect":"Allow","Action":"glue:GetSchemaVersion","Resource":["{{glue}}","arn:aws:glue:eu-west-1:123456789012:schema/kafka/*"]}""", StringComparison.Ordinal));
        }

        // The audit and replay functions have no Kafka access and name the sink's id, not their own.
        var tools = Json(d.Resources["AuditReplayRole"]);
        Assert.DoesNotContain("kafka-cluster:", tools, StringComparison.Ordinal);
        Assert.DoesNotContain("kafka:", tools, StringComparison.Ordinal);
        foreach (var id in new[] { "AuditFunction", "ReplayFunction" })
        {
            var sinkId = Json(d.Resources[id]!["Properties"]!["Environment"]!["Variables"]!["SINK_ID"]);
            var given = Param("SinkId", caseName);
            Assert.Contains(given.Length > 0 ? given : "-MskToClickHouse", sinkId, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Kms_DecryptOnlyOnTheGivenKeyAndOnlyThroughSecretsManager(string caseName)
    {
        var d = Deployed.Value[caseName];
        var key = Param("SecretsKmsKeyArn", caseName);
        var kmsStatements = TemplateChecker.IamStatements(d.Resolved).Where(s => Json(s.Statement["Action"]).Contains("kms:", StringComparison.Ordinal)).ToList();
        if (key.Length == 0)
        {
            Assert.Empty(kmsStatements);
            return;
        }

        // One statement in the sink's role, one in the audit and replay functions' role.
        Assert.Equal(2, kmsStatements.Count);
        Assert.All(kmsStatements, s => Assert.Equal(
            $$$$"""{"Sid":"DecryptSecretsViaSecretsManager","Effect":"Allow","Action":"kms:Decrypt","Resource":"{{{{key}}}}","Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.eu-west-1.amazonaws.com"}}}""",
            Json(s.Statement)));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Function_WaitsForTheNatRouteExactlyWhenTheStackCreatesTheVpc(string caseName)
    {
        var d = Deployed.Value[caseName];
        var functions = d.OfType("AWS::Lambda::Function").Select(f => f.Resource).ToList();
        Assert.All(functions, f => Assert.Contains("NetworkReady", Json(f["DependsOn"]), StringComparison.Ordinal));
        var wait = d.Resources["NetworkReady"]!;
        if (Param("CreateVpc", caseName) == "true")
        {
            Assert.Equal(
                """{"PrivateDefaultRoute":{"Ref":"PrivateDefaultRoute"},"PrivateSubnetARoute":{"Ref":"PrivateSubnetARouteTableAssociation"},"PrivateSubnetBRoute":{"Ref":"PrivateSubnetBRouteTableAssociation"}}""",
                Json(wait["Metadata"]));
            Assert.Equal("""{"Ref":"NatGateway"}""", Json(d.Resources["PrivateDefaultRoute"]!["Properties"]!["NatGatewayId"]));
        }
        else
        {
            Assert.False(d.Resources.ContainsKey("PrivateDefaultRoute"));
            Assert.Equal("""{"PrivateDefaultRoute":"","PrivateSubnetARoute":"","PrivateSubnetBRoute":""}""", Json(wait["Metadata"]));
            Assert.All(functions, f => Assert.Equal(Json(Cases[caseName]["SubnetIds"]), Json(f["Properties"]!["VpcConfig"]!["SubnetIds"])));
        }
    }
}
