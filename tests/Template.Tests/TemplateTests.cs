using System.Text.Json.Nodes;
using Xunit;

namespace MskClickHouse.Template.Tests;

/// <summary>
/// template.yaml against the SAM schema, the CloudFormation spec and the project's invariants. The checks read the
/// template as AWS::LanguageExtensions expands it for two topics, and that expansion only exists when AWS's SAM
/// translator accepted the template too, so no check here can pass on a template `sam deploy` would reject.
/// </summary>
public class TemplateTests
{
    private const string FunctionId = "MskToClickHouseFunction";

    /// <summary>EC2 actions AWS needs on Resource "*" (Describe* have no resource-level permissions; Lambda creates
    /// the ENIs before they have ARNs). Same list as AWSLambdaMSKExecutionRole + AWSLambdaVPCAccessExecutionRole.</summary>
    public static readonly IReadOnlySet<string> ActionsAllowedOnStar = new HashSet<string>(StringComparer.Ordinal)
    {
        "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DeleteNetworkInterface",
        "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
    };

    /// <summary>The function's configuration contract (environment variable names).</summary>
    public static readonly IReadOnlySet<string> ContractEnvironment = new HashSet<string>(StringComparer.Ordinal)
    {
        "CLICKHOUSE_URL", "CLICKHOUSE_USER", "CLICKHOUSE_PASSWORD_SECRET_ARN", "CLICKHOUSE_DATABASE", "TOPIC_TABLES",
        "VALUE_FORMAT", "DEAD_LETTER_TABLE", "STATE_TABLE", "SINK_ID", "CLICKHOUSE_SETTINGS", "CLICKHOUSE_CA_FILE", "CLICKHOUSE_COMPRESSION",
        "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_NAMESPACE", "POLLER_MODE", "CLICKHOUSE_ALLOW_HTTP",
        "SCHEMA_REGISTRY_URL", "SCHEMA_REGISTRY_USER", "SCHEMA_REGISTRY_PASSWORD_SECRET_ARN", "GLUE_REGISTRY_ARN",
        "UNKNOWN_FIELDS_SAMPLE", "SCHEMA_EVOLUTION", "AUTO_CREATE_TABLES", "INSERT_MODE", "CDC_FORMAT", "CDC_TOPICS", "DEFAULT_ROUTE", "ROUTES", "UNROUTED",
    };

    public static readonly IReadOnlySet<string> SecretArnEnvironment = new HashSet<string>(StringComparer.Ordinal)
    {
        "CLICKHOUSE_PASSWORD_SECRET_ARN", "SCHEMA_REGISTRY_PASSWORD_SECRET_ARN",
    };

    private static readonly Lazy<JsonObject> Source = new(() => CfnYaml.Load(Repo.File("template.yaml")));

    /// <summary>Expanded by AWS::LanguageExtensions for topics orders-v2 and app.events; accepted by the SAM translator.</summary>
    private static readonly Lazy<JsonObject> Expanded = new(() =>
        SamTranslation.DeployOne(SamTranslation.With(("Topics", new JsonArray("orders-v2", "app.events")))).Expanded);

    private static JsonObject Template => Expanded.Value;

    private static JsonObject Function => (JsonObject)Template["Resources"]![FunctionId]!;

    private static JsonObject FunctionProperties => (JsonObject)Function["Properties"]!;

    private static JsonObject MskMapping => (JsonObject)Template["Resources"]!["MskMappingordersv2"]!["Properties"]!;

    private static JsonObject Parameter(string name) =>
        Template["Parameters"]?[name] as JsonObject ?? throw new Xunit.Sdk.XunitException($"no parameter {name}");

    private static void AssertNone(List<string> problems) =>
        Assert.True(problems.Count == 0, $"{problems.Count} problem(s):\n  " + string.Join("\n  ", problems));

    [Fact]
    public void Template_RunsLanguageExtensionsThenSamWithFunctionNamedMskToClickHouseFunction()
    {
        Assert.Equal("""["AWS::LanguageExtensions","AWS::Serverless-2016-10-31"]""", Source.Value["Transform"]!.ToJsonString());
        Assert.Equal("AWS::Serverless::Function", Function["Type"]?.GetValue<string>());
        Assert.Null(FunctionProperties["Events"]); // the SAM MSK event cannot take Fn::If: raw mappings instead
    }

    [Fact]
    public void Template_ExpandsOneMappingPerTopic()
    {
        var ids = Template["Resources"]!.AsObject().Select(kv => kv.Key).ToList();
        Assert.Equal(["MskMappingappevents", "MskMappingordersv2"], ids.Where(i => i.StartsWith("MskMapping", StringComparison.Ordinal)).Order());
        Assert.DoesNotContain(ids, i => i.StartsWith("TopicPolicy", StringComparison.Ordinal)); // one TopicAccessPolicy for all topics
    }

    [Fact]
    public void Mappings_CanBePausedForAConsumerGroupChange()
    {
        Assert.Equal("""{"Ref":"MappingsEnabled"}""", MskMapping["Enabled"]!.ToJsonString());
        Assert.Equal("true", Parameter("MappingsEnabled")["Default"]!.GetValue<string>());
    }

    [Fact]
    public void Template_ValidatesAgainstSamSchema() => AssertNone(SamSchema.Validate(Template));

    [Fact]
    public void Template_NonSamResourcesMatchCloudFormationSpec()
    {
        var spec = CfnSpec.Installed;
        AssertNone(TemplateChecker.CheckAgainstSpec(Template, spec, out var propertiesChecked));
        var checkedResources = TemplateChecker.Resources(Template).Count(r => !r.Type.StartsWith("AWS::Serverless::", StringComparison.Ordinal));
        TestContext.Current.SendDiagnosticMessage($"spec check: {checkedResources} resources, {propertiesChecked} property values");
        Assert.True(checkedResources >= 29, $"only {checkedResources} CloudFormation resources were checked");
        Assert.True(propertiesChecked >= 120, $"only {propertiesChecked} property values were matched against the spec");
    }

    [Fact]
    public void Template_EveryRefGetAttSubAndConditionTargetExists() => AssertNone(TemplateChecker.CheckReferences(Template));

    [Fact]
    public void Template_IamGrantsStarOnlyForEc2NetworkInterfaceActions() =>
        AssertNone(TemplateChecker.CheckIamWildcards(Template, ActionsAllowedOnStar));

    [Fact]
    public void Template_NoSecretInParameterDefaultsOrEnvironment() =>
        AssertNone(TemplateChecker.CheckNoPlainSecrets(Template, SecretArnEnvironment));

    [Fact]
    public void Template_SecurityGroupIngressIsNeverOpenToTheWorld() =>
        AssertNone(TemplateChecker.CheckIngressNeverOpenToWorld(Template));

    [Fact]
    public void Function_IsNativeAotCustomRuntimeBuiltByMakefile()
    {
        Assert.Equal("provided.al2023", FunctionProperties["Runtime"]?.GetValue<string>());
        Assert.Equal("bootstrap", FunctionProperties["Handler"]?.GetValue<string>());
        Assert.Equal(".", FunctionProperties["CodeUri"]?.GetValue<string>());
        Assert.Equal("makefile", Function["Metadata"]?["BuildMethod"]?.GetValue<string>());
        Assert.Equal("""[{"Ref":"Architecture"}]""", FunctionProperties["Architectures"]!.ToJsonString());
        Assert.Equal("arm64", Parameter("Architecture")["Default"]?.GetValue<string>());
        Assert.Equal(["arm64", "x86_64"], Parameter("Architecture")["AllowedValues"]!.AsArray().Select(v => v!.GetValue<string>()));
    }

    [Fact]
    public void Function_EnvironmentUsesOnlyContractNames()
    {
        var names = FunctionProperties["Environment"]!["Variables"]!.AsObject().Select(kv => kv.Key).ToList();
        Assert.All(names, n => Assert.Contains(n, ContractEnvironment));
        foreach (var required in new[] { "CLICKHOUSE_URL", "CLICKHOUSE_PASSWORD_SECRET_ARN", "TOPIC_TABLES", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_SERVICE_NAME", "POLLER_MODE", "CLICKHOUSE_ALLOW_HTTP" })
        {
            Assert.Contains(required, names);
        }
    }

    [Fact]
    public void Function_TimeoutCannotExceedMskLimitOf840Seconds()
    {
        Assert.True(Parameter("Timeout")["MaxValue"]!.GetValue<long>() <= 840);
        Assert.Equal("""{"Ref":"Timeout"}""", FunctionProperties["Timeout"]!.ToJsonString());
    }

    [Fact]
    public void Function_LogsAsJsonToRetainedLogGroupNamedAfterFunction()
    {
        var logging = FunctionProperties["LoggingConfig"]!;
        Assert.Equal("JSON", logging["LogFormat"]?.GetValue<string>());
        Assert.Equal("""{"Ref":"FunctionLogGroup"}""", logging["LogGroup"]!.ToJsonString());
        var group = Template["Resources"]!["FunctionLogGroup"]!["Properties"]!;
        Assert.Equal("""{"Ref":"LogRetentionInDays"}""", group["RetentionInDays"]!.ToJsonString());
        Assert.Equal("""{"Fn::Sub":"/aws/lambda/${AWS::StackName}-MskToClickHouse"}""", group["LogGroupName"]!.ToJsonString());
        Assert.Equal("""{"Fn::Sub":"${AWS::StackName}-MskToClickHouse"}""", FunctionProperties["FunctionName"]!.ToJsonString());
    }

    [Fact]
    public void MskMapping_UsesBatchSizeAndBatchingWindowParameters()
    {
        Assert.Equal("""{"Ref":"BatchSize"}""", MskMapping["BatchSize"]!.ToJsonString());
        Assert.Equal("""{"Ref":"MaximumBatchingWindowInSeconds"}""", MskMapping["MaximumBatchingWindowInSeconds"]!.ToJsonString());
        Assert.Equal(1, Parameter("BatchSize")["MinValue"]!.GetValue<long>());
        Assert.Equal(10000, Parameter("BatchSize")["MaxValue"]!.GetValue<long>());
        Assert.Equal(0, Parameter("MaximumBatchingWindowInSeconds")["MinValue"]!.GetValue<long>());
        Assert.Equal(300, Parameter("MaximumBatchingWindowInSeconds")["MaxValue"]!.GetValue<long>());
    }

    [Fact]
    public void MskMapping_ReportsBatchItemFailuresExactlyInProvisionedMode()
    {
        Assert.Equal("""{"Fn::If":["IsProvisioned",["ReportBatchItemFailures"],{"Ref":"AWS::NoValue"}]}""", MskMapping["FunctionResponseTypes"]!.ToJsonString());
        Assert.Equal("""{"Fn::Equals":[{"Ref":"PollerMode"},"PROVISIONED"]}""", Source.Value["Conditions"]!["IsProvisioned"]!.ToJsonString());
        Assert.Equal("""{"Ref":"PollerMode"}""", FunctionProperties["Environment"]!["Variables"]!["POLLER_MODE"]!.ToJsonString());
    }

    [Fact]
    public void MskMapping_DefaultsToProvisionedModeWhereKafkaErrorHandlingControlsApply()
    {
        Assert.Equal("PROVISIONED", Parameter("PollerMode")["Default"]!.GetValue<string>());
        Assert.Equal(["PROVISIONED", "ON_DEMAND"], Parameter("PollerMode")["AllowedValues"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(1, Parameter("MinimumPollers")["MinValue"]!.GetValue<long>());
        Assert.Equal("false", Parameter("BisectBatchOnFunctionError")["Default"]!.GetValue<string>());
        foreach (var name in new[] { "MaximumRetryAttempts", "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError" })
        {
            Assert.Equal($$"""{"Fn::If":["IsProvisioned",{"Ref":"{{name}}"},{"Ref":"AWS::NoValue"}]}""", MskMapping[name]!.ToJsonString());
        }

        Assert.Equal("""{"Ref":"StartingPosition"}""", MskMapping["StartingPosition"]!.ToJsonString());
        Assert.Equal("""{"Ref":"MskClusterArn"}""", MskMapping["EventSourceArn"]!.ToJsonString());
        Assert.Equal("""["orders-v2"]""", MskMapping["Topics"]!.ToJsonString());
    }

    [Fact]
    public void MskMapping_ConsumerGroupDefaultsToTheStackNamePlusTopic()
    {
        Assert.Equal("", Parameter("ConsumerGroupId")["Default"]!.GetValue<string>());
        Assert.Equal(
            """{"Fn::Sub":["${GroupBase}-orders-v2",{"GroupBase":{"Fn::If":["HasConsumerGroupId",{"Ref":"ConsumerGroupId"},{"Ref":"AWS::StackName"}]}}]}""",
            MskMapping["AmazonManagedKafkaEventSourceConfig"]!["ConsumerGroupId"]!.ToJsonString());
    }

    [Fact]
    public void Parameters_ClickHouseAllowHttpDefaultsToFalse()
    {
        Assert.Equal("false", Parameter("ClickHouseAllowHttp")["Default"]!.GetValue<string>());
        Assert.Equal("""{"Ref":"ClickHouseAllowHttp"}""", FunctionProperties["Environment"]!["Variables"]!["CLICKHOUSE_ALLOW_HTTP"]!.ToJsonString());
    }

    [Fact]
    public void AuditFunction_RunsOnTheAuditScheduleInAuditMode_ReplayFunctionHasNoEventSource()
    {
        var audit = (JsonObject)Template["Resources"]!["AuditFunction"]!["Properties"]!;
        var replay = (JsonObject)Template["Resources"]!["ReplayFunction"]!["Properties"]!;

        Assert.Equal("audit", audit["Environment"]!["Variables"]!["SINK_MODE"]!.GetValue<string>());
        Assert.Equal("""{"Ref":"AuditWindowHours"}""", audit["Environment"]!["Variables"]!["AUDIT_WINDOW_HOURS"]!.ToJsonString());
        Assert.Equal("""{"Ref":"AuditSchedule"}""", audit["Events"]!["Schedule"]!["Properties"]!["Schedule"]!.ToJsonString());
        Assert.Equal("rate(1 hour)", Parameter("AuditSchedule")["Default"]!.GetValue<string>());
        Assert.Equal("replay", replay["Environment"]!["Variables"]!["SINK_MODE"]!.GetValue<string>());
        Assert.Null(replay["Events"]);
        Assert.Equal(FunctionProperties["VpcConfig"]!.ToJsonString(), audit["VpcConfig"]!.ToJsonString());
        Assert.Equal(FunctionProperties["VpcConfig"]!.ToJsonString(), replay["VpcConfig"]!.ToJsonString());
    }

    [Fact]
    public void Alarms_CoverErrorsOffsetLagAndTheEmfMetricsThatMustStayZero()
    {
        var alarms = TemplateChecker.Resources(Template).Where(r => r.Type == "AWS::CloudWatch::Alarm")
            .Select(r => (JsonObject)r.Resource["Properties"]!).ToList();
        JsonObject Alarm(string metric) => alarms.Single(a => a["MetricName"]?.GetValue<string>() == metric);

        Assert.Equal("AWS/Lambda", Alarm("Errors")["Namespace"]!.GetValue<string>());
        Assert.Equal("AWS/Lambda", Alarm("OffsetLag")["Namespace"]!.GetValue<string>());
        Assert.Equal("FunctionName", Alarm("OffsetLag")["Dimensions"]![0]!["Name"]!.GetValue<string>());
        // The function's EMF metrics that must stay 0 in a healthy stack (docs/operations.md, "Alarms and what to do").
        // DuplicateOffsets and MissingRecords come from the audit function (one line per table, also under the service dimension).
        foreach (var metric in (string[])["DeadLettered", "NonDeduplicatingTables", "RefusedPartitions", "QueryLimitPartitions", "DuplicateOffsets", "MissingRecords"])
        {
            var alarm = Alarm(metric);
            Assert.Equal("""{"Ref":"MetricsNamespace"}""", alarm["Namespace"]!.ToJsonString());
            Assert.Equal("""[{"Name":"service","Value":{"Ref":"ServiceName"}}]""", alarm["Dimensions"]!.ToJsonString());
            Assert.Equal("GreaterThanThreshold", alarm["ComparisonOperator"]!.GetValue<string>());
            Assert.Equal(0, alarm["Threshold"]!.GetValue<long>());
        }

        var env = FunctionProperties["Environment"]!["Variables"]!;
        Assert.Equal("""{"Ref":"MetricsNamespace"}""", env["POWERTOOLS_METRICS_NAMESPACE"]!.ToJsonString());
        Assert.Equal("""{"Ref":"ServiceName"}""", env["POWERTOOLS_SERVICE_NAME"]!.ToJsonString());
        Assert.Equal("MskClickHouse", Parameter("MetricsNamespace")["Default"]!.GetValue<string>());
    }

    [Fact]
    public void Network_CreatedVpcHasTwoPrivateSubnetsInDifferentAzsBehindNat()
    {
        var r = Template["Resources"]!;
        Assert.Equal("""{"Fn::Select":[0,{"Fn::GetAZs":""}]}""", r["PrivateSubnetA"]!["Properties"]!["AvailabilityZone"]!.ToJsonString());
        Assert.Equal("""{"Fn::Select":[1,{"Fn::GetAZs":""}]}""", r["PrivateSubnetB"]!["Properties"]!["AvailabilityZone"]!.ToJsonString());
        Assert.Equal("""{"Ref":"NatGateway"}""", r["PrivateDefaultRoute"]!["Properties"]!["NatGatewayId"]!.ToJsonString());
        Assert.Equal("""{"Ref":"InternetGateway"}""", r["PublicDefaultRoute"]!["Properties"]!["GatewayId"]!.ToJsonString());
        foreach (var id in new[] { "Vpc", "PrivateSubnetA", "PrivateSubnetB", "PublicSubnet", "NatGateway", "NatElasticIp", "InternetGateway" })
        {
            Assert.Equal("CreateVpcCondition", r[id]!["Condition"]!.GetValue<string>());
        }

        var nat = Template["Outputs"]!["NatGatewayPublicIp"]!;
        Assert.Equal("CreateVpcCondition", nat["Condition"]!.GetValue<string>());
    }

    [Fact]
    public void Network_FunctionEgressIsOnlyClickHouseAndHttps()
    {
        var egress = Template["Resources"]!["FunctionSecurityGroup"]!["Properties"]!["SecurityGroupEgress"]!.AsArray();
        var ports = egress.Select(e => e!["FromPort"]!.ToJsonString()).ToList();
        Assert.Equal(["""{"Ref":"ClickHousePort"}""", "443"], ports);
        Assert.Equal(8443, Parameter("ClickHousePort")["Default"]!.GetValue<long>());
    }

    [Fact]
    public void Iam_MskDataPlaneArnsAreDerivedFromTheClusterArn()
    {
        var statements = TemplateChecker.IamStatements(Template).Where(s => s.Statement["Sid"] is not null)
            .ToLookup(s => s.Statement["Sid"]!.GetValue<string>(), s => s.Statement);
        Assert.Equal("""{"Ref":"MskClusterArn"}""", statements["ConnectToCluster"].Single()["Resource"]!.ToJsonString());
        Assert.Single(statements["ReadTopics"]);
        Assert.Contains(":group/${ClusterPath}/${GroupBase}-*", statements["UseConsumerGroups"].Single()["Resource"]!.ToJsonString(), StringComparison.Ordinal);
        var actions = statements.SelectMany(g => g).SelectMany(s => s["Action"] is JsonArray a ? a.Select(x => x!.GetValue<string>()) : [s["Action"]!.GetValue<string>()]).ToHashSet();
        foreach (var a in new[] { "kafka:DescribeCluster", "kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers", "kafka-cluster:Connect",
                     "kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup", "kafka-cluster:DescribeTopic", "kafka-cluster:ReadData",
                     "kafka-cluster:DescribeClusterDynamicConfiguration" })
        {
            Assert.Contains(a, actions);
        }
    }

    [Fact]
    public void Outputs_ExposeFunctionRoleSecurityGroupAndNatIp()
    {
        var outputs = Template["Outputs"]!.AsObject().Select(kv => kv.Key).ToHashSet();
        Assert.Superset(new HashSet<string> { "FunctionArn", "FunctionRoleArn", "FunctionSecurityGroupId", "NatGatewayPublicIp" }, outputs);
    }
}
