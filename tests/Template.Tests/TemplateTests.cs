using System.Text.Json.Nodes;
using Xunit;

namespace MskClickHouse.Template.Tests;

/// <summary>template.yaml against the SAM schema, the CloudFormation spec and the project's invariants.</summary>
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
        "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_NAMESPACE",
    };

    public static readonly IReadOnlySet<string> SecretArnEnvironment = new HashSet<string>(StringComparer.Ordinal)
    {
        "CLICKHOUSE_PASSWORD_SECRET_ARN",
    };

    private static readonly Lazy<JsonObject> Loaded = new(() => CfnYaml.Load(Repo.File("template.yaml")));

    private static JsonObject Template => Loaded.Value;

    private static JsonObject Function => (JsonObject)Template["Resources"]![FunctionId]!;

    private static JsonObject FunctionProperties => (JsonObject)Function["Properties"]!;

    private static JsonObject MskEvent => (JsonObject)FunctionProperties["Events"]!.AsObject()
        .Single(e => e.Value?["Type"]?.GetValue<string>() == "MSK").Value!["Properties"]!;

    private static JsonObject Parameter(string name) =>
        Template["Parameters"]?[name] as JsonObject ?? throw new Xunit.Sdk.XunitException($"no parameter {name}");

    private static void AssertNone(List<string> problems) =>
        Assert.True(problems.Count == 0, $"{problems.Count} problem(s):\n  " + string.Join("\n  ", problems));

    [Fact]
    public void Template_IsSamTransformWithFunctionNamedMskToClickHouseFunction()
    {
        Assert.Equal("AWS::Serverless-2016-10-31", Template["Transform"]?.GetValue<string>());
        Assert.Equal("AWS::Serverless::Function", Function["Type"]?.GetValue<string>());
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
        Assert.True(checkedResources >= 25, $"only {checkedResources} CloudFormation resources were checked");
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
        foreach (var required in new[] { "CLICKHOUSE_URL", "CLICKHOUSE_PASSWORD_SECRET_ARN", "TOPIC_TABLES", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_SERVICE_NAME" })
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
    public void MskEvent_UsesBatchSizeAndBatchingWindowParameters()
    {
        Assert.Equal("""{"Ref":"BatchSize"}""", MskEvent["BatchSize"]!.ToJsonString());
        Assert.Equal("""{"Ref":"MaximumBatchingWindowInSeconds"}""", MskEvent["MaximumBatchingWindowInSeconds"]!.ToJsonString());
        Assert.Equal(1, Parameter("BatchSize")["MinValue"]!.GetValue<long>());
        Assert.Equal(10000, Parameter("BatchSize")["MaxValue"]!.GetValue<long>());
        Assert.Equal(0, Parameter("MaximumBatchingWindowInSeconds")["MinValue"]!.GetValue<long>());
        Assert.Equal(300, Parameter("MaximumBatchingWindowInSeconds")["MaxValue"]!.GetValue<long>());
    }

    [Fact]
    public void MskEvent_ReportsBatchItemFailuresUnconditionally()
    {
        var types = MskEvent["FunctionResponseTypes"] as JsonArray;
        Assert.NotNull(types); // a plain list, not an Fn::If that could drop it
        Assert.Contains("ReportBatchItemFailures", types.Select(t => t!.GetValue<string>()));
    }

    [Fact]
    public void MskEvent_DefaultsToProvisionedModeWhereKafkaErrorHandlingControlsApply()
    {
        Assert.True(Parameter("MinimumPollers")["Default"]!.GetValue<long>() >= 1);
        Assert.Equal("false", Parameter("BisectBatchOnFunctionError")["Default"]!.GetValue<string>());
        foreach (var name in new[] { "MaximumRetryAttempts", "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError", "StartingPosition", "Topics" })
        {
            Assert.Equal($$"""{"Ref":"{{name}}"}""", MskEvent[name]!.ToJsonString());
        }

        Assert.Equal("""{"Ref":"MskClusterArn"}""", MskEvent["Stream"]!.ToJsonString());
    }

    [Fact]
    public void Alarms_CoverErrorsOffsetLagAndDeadLetteredEmfMetric()
    {
        var alarms = TemplateChecker.Resources(Template).Where(r => r.Type == "AWS::CloudWatch::Alarm")
            .Select(r => (JsonObject)r.Resource["Properties"]!).ToList();
        JsonObject Alarm(string metric) => alarms.Single(a => a["MetricName"]?.GetValue<string>() == metric);

        Assert.Equal("AWS/Lambda", Alarm("Errors")["Namespace"]!.GetValue<string>());
        Assert.Equal("AWS/Lambda", Alarm("OffsetLag")["Namespace"]!.GetValue<string>());
        Assert.Equal("FunctionName", Alarm("OffsetLag")["Dimensions"]![0]!["Name"]!.GetValue<string>());
        var dead = Alarm("DeadLettered");
        Assert.Equal("""{"Ref":"MetricsNamespace"}""", dead["Namespace"]!.ToJsonString());
        Assert.Equal("""[{"Name":"service","Value":{"Ref":"ServiceName"}}]""", dead["Dimensions"]!.ToJsonString());
        Assert.Equal("GreaterThanThreshold", dead["ComparisonOperator"]!.GetValue<string>());
        Assert.Equal(0, dead["Threshold"]!.GetValue<long>());
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
        var msk = TemplateChecker.IamStatements(Template).Where(s => s.Path.Contains("msk", StringComparison.Ordinal))
            .ToDictionary(s => s.Statement["Sid"]!.GetValue<string>(), s => s.Statement);
        Assert.Equal("""{"Ref":"MskClusterArn"}""", msk["ConnectToCluster"]["Resource"]!.ToJsonString());
        Assert.Contains(":topic/${ClusterPath}/*", msk["ReadTopics"]["Resource"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains(":group/${ClusterPath}/", msk["UseConsumerGroup"]["Resource"]!.ToJsonString(), StringComparison.Ordinal);
        var actions = msk.Values.SelectMany(s => s["Action"]!.AsArray().Select(a => a!.GetValue<string>())).ToHashSet();
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
