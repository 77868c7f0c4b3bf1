using System.Text.Json.Nodes;

namespace MskClickHouse.Template.Tests;

/// <summary>
/// template.yaml deployed on paper by tests/Template.Tests/sam_translate.py: parameter validation, the Rules section,
/// the AWS::LanguageExtensions expansion (cfn-lint's implementation) and AWS's SAM translator (samtranslator), then
/// conditions evaluated. Each case is a set of parameter values.
/// </summary>
public static class SamTranslation
{
    public const string Script = "tests/Template.Tests/sam_translate.py";
    public const string InstallHint = "python3 with cfn-lint (which brings aws-sam-translator): `pipx install cfn-lint`, or `pip install cfn-lint`";

    /// <summary>
    /// The python that imports cfn-lint and samtranslator: $CFN_LINT_PYTHON (test.sh finds the interpreter of a pipx
    /// install there), else python3 (a pip install).
    /// </summary>
    public static string Python =>
        Environment.GetEnvironmentVariable("CFN_LINT_PYTHON") is { Length: > 0 } p ? p : "python3";

    /// <summary>The stack name the script gives AWS::StackName.</summary>
    public const string StackName = "msk-clickhouse-test";

    public const string ClusterArn = "arn:aws:kafka:eu-west-1:123456789012:cluster/demo/abc-1";

    /// <summary>The parameters without a default, with valid values; cases add or override.</summary>
    public static Dictionary<string, JsonNode?> Required() => new(StringComparer.Ordinal)
    {
        ["MskClusterArn"] = ClusterArn,
        ["Topics"] = new JsonArray("orders"),
        ["TopicTables"] = "orders=analytics.orders",
        ["ClickHouseUrl"] = "https://abc123.eu-west-1.aws.clickhouse.cloud:8443",
        ["ClickHousePasswordSecretArn"] = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:clickhouse-AbCdEf",
    };

    public sealed record Deployment(string Case, JsonObject Result)
    {
        public string? Rejected => Result["rejected"]?.GetValue<string>();

        public IReadOnlyList<string> ParameterErrors => Strings("parameterErrors");

        public IReadOnlyList<string> RuleFailures => Strings("ruleFailures");

        /// <summary>After AWS::LanguageExtensions, before SAM: the template the SAM schema and the spec checks read.</summary>
        public JsonObject Expanded => Require("expanded");

        /// <summary>After the SAM transform, conditions evaluated: what CloudFormation would create.</summary>
        public JsonObject Resolved => Require("resolved");

        public JsonObject Resources => (JsonObject)Resolved["Resources"]!;

        public IEnumerable<(string Id, JsonObject Resource)> OfType(string type) =>
            Resources.Where(kv => kv.Value!["Type"]!.GetValue<string>() == type).Select(kv => (kv.Key, (JsonObject)kv.Value!));

        private IReadOnlyList<string> Strings(string key) =>
            (Result[key] as JsonArray)?.Select(v => v!.GetValue<string>()).ToList() ?? [];

        private JsonObject Require(string key)
        {
            if (Rejected is { } why)
            {
                throw new Xunit.Sdk.XunitException($"case '{Case}': {why}");
            }

            return Result[key] as JsonObject
                ?? throw new Xunit.Sdk.XunitException($"case '{Case}' was not deployed: {string.Join("; ", ParameterErrors)}");
        }
    }

    /// <summary>Deploys every case in one python process (imports take a second or two).</summary>
    public static IReadOnlyDictionary<string, Deployment> Deploy(IReadOnlyDictionary<string, Dictionary<string, JsonNode?>> cases, string template = "template.yaml")
    {
        var input = new JsonObject();
        foreach (var (name, parameters) in cases)
        {
            var obj = new JsonObject();
            foreach (var (k, v) in parameters)
            {
                obj[k] = v?.DeepClone();
            }

            input[name] = obj;
        }

        var run = Tool.Run(Python, [Repo.File(Script), Repo.File(template), input.ToJsonString()], InstallHint);
        if (run.ExitCode != 0)
        {
            throw new Xunit.Sdk.XunitException($"{Script} failed ({run.ExitCode}); it needs {InstallHint}\n{run.Output}");
        }

        var output = JsonNode.Parse(run.StandardOutput)!.AsObject();
        return output.ToDictionary(kv => kv.Key, kv => new Deployment(kv.Key, (JsonObject)kv.Value!), StringComparer.Ordinal);
    }

    public static Deployment DeployOne(Dictionary<string, JsonNode?> parameters, string template = "template.yaml") =>
        Deploy(new Dictionary<string, Dictionary<string, JsonNode?>> { ["case"] = parameters }, template)["case"];

    public static Dictionary<string, JsonNode?> With(params (string Name, JsonNode? Value)[] overrides)
    {
        var p = Required();
        foreach (var (name, value) in overrides)
        {
            p[name] = value;
        }

        return p;
    }
}
