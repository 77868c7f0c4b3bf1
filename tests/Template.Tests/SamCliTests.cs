using System.Text.Json.Nodes;
using Xunit;
using static MskClickHouse.Template.Tests.SamTranslation;

namespace MskClickHouse.Template.Tests;

/// <summary>
/// The documented commands as SAM CLI (>= 1.161, checked against 1.164's code) runs them: samconfig.toml read per
/// command (SamConfig), local AWS::LanguageExtensions processing opt-in, the Fn::ForEach over Topics expanded with the
/// samconfig's parameters (a logical id produced twice refused, as SAM CLI's expansion does), then AWS's SAM
/// translator (sam_translate.py) - for both environments, several topic sets and 100 topics within IAM's limits.
/// </summary>
public class SamCliTests
{
    /// <summary>The samconfig keys of the commands docs/deploy.md names (sam local invoke = local_invoke, ...).</summary>
    private static readonly string[] Commands = ["build", "validate", "package", "deploy", "sync", "local_invoke", "local_start_api", "local_start_lambda"];

    public static TheoryData<string, string> EnvironmentCommands =>
        new(from env in new[] { "default", "prod" } from cmd in Commands select (env, cmd));

    /// <summary>Since SAM CLI 1.161 the template's Fn::ForEach is expanded locally only when asked to; without it the stack
    /// provider, the build graph and `sam validate` fail on the Fn::ForEach::TopicMappings list.</summary>
    [Theory]
    [MemberData(nameof(EnvironmentCommands))]
    public void SamConfig_EveryCommandTurnsOnLanguageExtensions(string environment, string command) =>
        Assert.True(
            SamConfig.Effective(SamConfig.Read(), environment, command).TryGetValue("language_extensions", out var on) && on is true,
            $"[{environment}] {command}: language_extensions = true missing (global or {command} section)");

    /// <summary>`sam build` expands Fn::ForEach over Topics too, so it needs the same parameters as `sam deploy`.</summary>
    [Theory]
    [InlineData("default")]
    [InlineData("prod")]
    public void SamConfig_BuildSeesTheParametersDeployUses(string environment)
    {
        var config = SamConfig.Read();
        var deploy = SamConfig.ParameterOverrides(SamConfig.Effective(config, environment, "deploy"));
        Assert.Contains("Topics", deploy.Keys);
        foreach (var command in Commands.Where(c => c != "validate"))
        {
            Assert.Equal(deploy, SamConfig.ParameterOverrides(SamConfig.Effective(config, environment, command)));
        }
    }

    /// <summary>docs/deploy.md's commands use only the environments samconfig.toml has, and name the same minimum
    /// SAM CLI version as samconfig.toml (the first with opt-in local language extensions).</summary>
    [Fact]
    public void DeployDoc_CommandsUseSamconfigsEnvironments_AndTheMinimumVersion()
    {
        var doc = File.ReadAllText(Repo.File("docs/deploy.md"));
        var config = SamConfig.Read();
        var environments = System.Text.RegularExpressions.Regex.Matches(doc, @"--config-env (\w+)").Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.NotEmpty(environments);
        Assert.All(environments, e => Assert.True(config.ContainsKey(e), $"docs/deploy.md uses --config-env {e}, samconfig.toml has no [{e}]"));
        Assert.Contains("AWS SAM CLI 1.161 or newer", doc, StringComparison.Ordinal);
        Assert.Contains("SAM CLI >= 1.161", File.ReadAllText(Repo.File("samconfig.toml")), StringComparison.Ordinal);
    }

    private static Dictionary<string, JsonNode?> FromSamConfig(string environment, params (string Name, string Value)[] replaced)
    {
        var values = SamConfig.ParameterOverrides(SamConfig.Effective(SamConfig.Read(), environment, "deploy"));
        foreach (var (name, value) in replaced)
        {
            values[name] = value;
        }

        return values.ToDictionary(kv => kv.Key, kv => (JsonNode?)kv.Value, StringComparer.Ordinal);
    }

    /// <summary>100 topics of 30 characters, as a sink of a busy cluster might read.</summary>
    private static readonly string[] HundredTopics = Enumerable.Range(0, 100).Select(i => $"team-{i % 7}.orders.created-v{i:D3}-0000".PadRight(30, 'x')[..30]).ToArray();

    private static readonly Lazy<IReadOnlyDictionary<string, Deployment>> Deployed = new(() => Deploy(new Dictionary<string, Dictionary<string, JsonNode?>>
    {
        ["default as shipped"] = FromSamConfig("default"),
        ["prod as shipped"] = FromSamConfig("prod"),
        ["default with topics"] = FromSamConfig("default", ("Topics", "orders,orders-v2,app.events"), ("TopicTables", "orders=default.orders")),
        ["prod with topics"] = FromSamConfig("prod", ("Topics", "orders,orders-v2,app.events"), ("TopicTables", "orders=analytics.orders")),
        ["punctuation only"] = With(("Topics", "orders.v1,orders_v1,orders-v1")),
        ["one character"] = With(("Topics", "orders,o")),
        ["two characters"] = With(("Topics", "ab")),
        ["149 characters"] = With(("Topics", new string('t', 149))),
        ["150 characters"] = With(("Topics", new string('t', 150))),
        ["leading dot"] = With(("Topics", ".hidden")),
        ["100 topics"] = With(("Topics", string.Join(",", HundredTopics)),
            ("BrokerAuthentication", "SASL_SCRAM_512"), ("BrokerAuthSecretArn", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_scram-AbCdEf"),
            ("SecretsKmsKeyArn", "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
            ("SchemaRegistryType", "GLUE"), ("SchemaRegistryUri", "arn:aws:glue:eu-west-1:123456789012:registry/kafka"),
            ("GlueRegistryArn", "arn:aws:glue:eu-west-1:123456789012:registry/kafka"), ("SchemaRegistryPasswordSecretArn", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:registry-AbCdEf"),
            ("OnFailureDestinationType", "S3"), ("OnFailureDestinationArn", "arn:aws:s3:::failed-batches")),
    }));

    [Theory]
    [InlineData("default")]
    [InlineData("prod")]
    public void SamConfigEnvironment_AsShipped_IsRefusedOnlyForItsPlaceholderTopic(string environment)
    {
        var d = Deployed.Value[$"{environment} as shipped"];
        Assert.Empty(d.ParameterErrors);
        Assert.Equal(["TopicsAreNotEmpty: Topics still holds the placeholder REPLACE_ME_TOPIC (set it in samconfig.toml parameter_overrides)."], d.RuleFailures);
    }

    [Theory]
    [InlineData("default")]
    [InlineData("prod")]
    public void SamConfigEnvironment_WithRealTopics_ExpandsTranslatesAndPassesEveryRule(string environment)
    {
        var d = Deployed.Value[$"{environment} with topics"];
        Assert.Empty(d.ParameterErrors);
        Assert.Empty(d.RuleFailures);
        Assert.Equal(["MskMappingappevents", "MskMappingorders", "MskMappingordersv2"], d.OfType("AWS::Lambda::EventSourceMapping").Select(m => m.Id).Order());
        Assert.Equal(3, d.OfType("AWS::Lambda::Function").Count());
    }

    [Fact]
    public void TopicsDifferingOnlyInPunctuation_AreRefusedBeforeAnythingIsCreated()
    {
        var why = Deployed.Value["punctuation only"].Rejected;
        Assert.NotNull(why);
        Assert.Contains("produced logical IDs that conflict with existing entries: MskMappingordersv1 (Topic 'orders.v1' and 'orders_v1')", why, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("one character", "Topics: 'o' does not match")]
    [InlineData("150 characters", "Topics: 'tttt")]
    [InlineData("leading dot", "Topics: '.hidden' does not match")]
    public void Topics_OutsideLambdasTopicPatternOrTheGroupLength_AreRefusedAsParameters(string caseName, string expected) =>
        Assert.Contains(Deployed.Value[caseName].ParameterErrors, e => e.StartsWith(expected, StringComparison.Ordinal));

    [Theory]
    [InlineData("two characters")]
    [InlineData("149 characters")]
    public void Topics_AtTheBoundaries_Deploy(string caseName)
    {
        var d = Deployed.Value[caseName];
        Assert.Empty(d.ParameterErrors);
        Assert.Empty(d.RuleFailures);
        Assert.Single(d.OfType("AWS::Lambda::EventSourceMapping"));
    }

    /// <summary>IAM counts a policy's characters without white space: a managed policy may hold 6,144, a role's inline
    /// policies 10,240 together. docs/deploy.md ("How many topics") gives the formula this checks.</summary>
    [Fact]
    public void HundredTopics_StayWithinIamAndCloudFormationLimits()
    {
        var d = Deployed.Value["100 topics"];
        Assert.Empty(d.ParameterErrors);
        Assert.Empty(d.RuleFailures);
        Assert.Equal(100, d.OfType("AWS::Lambda::EventSourceMapping").Count());

        // The function role's one inline policy (IAM: 10,240 characters for a role's inline policies together).
        var inline = d.OfType("AWS::IAM::RolePolicy").Where(p => p.Resource["Properties"]!["RoleName"]!.ToJsonString() == """{"Ref":"FunctionRole"}""").ToList();
        var topicPolicy = Assert.Single(inline).Resource["Properties"]!["PolicyDocument"]!.ToJsonString();
        var perTopic = "\"arn:*:kafka:*:*:topic/*/*/\",".Length + 30;
        TestContext.Current.SendDiagnosticMessage($"TopicAccessPolicy with 100 topics of 30 characters: {topicPolicy.Length} of 10,240 characters ({perTopic} per topic)");
        Assert.True(topicPolicy.Length <= 10240, $"TopicAccessPolicy is {topicPolicy.Length} characters");
        Assert.InRange(topicPolicy.Length - (100 * perTopic), 0, 400); // the fixed part docs/deploy.md counts with
        Assert.Null(d.Resources["FunctionRole"]!["Properties"]!["Policies"]);

        // The managed policy of the fixed permissions (6,144 characters each), here with every option that adds to it.
        var fixedPolicy = d.Resources["FunctionPolicy"]!["Properties"]!["PolicyDocument"]!.ToJsonString();
        Assert.True(fixedPolicy.Length <= 6144, $"FunctionPolicy is {fixedPolicy.Length} characters");
        var audit = d.Resources["AuditReplayRole"]!["Properties"]!["Policies"]!.AsArray().Sum(p => p!["PolicyName"]!.GetValue<string>().Length + p["PolicyDocument"]!.ToJsonString().Length);
        Assert.True(audit <= 10240, $"AuditReplayRole's inline policies are {audit} characters");

        Assert.True(d.Resources.Count <= 500, $"{d.Resources.Count} resources (CloudFormation allows 500)");
    }
}
