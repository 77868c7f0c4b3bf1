using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MskClickHouse.Template.Tests;

/// <summary>
/// Checks a template (as JSON from <see cref="CfnYaml"/>) and returns a list of problems, empty when it passes.
/// The same functions run on template.yaml and on small deliberately broken templates, so every rule is shown to fail.
/// </summary>
public static partial class TemplateChecker
{
    public static readonly IReadOnlySet<string> PseudoParameters = new HashSet<string>(StringComparer.Ordinal)
    {
        "AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region",
        "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
    };

    private static readonly HashSet<string> ResourceAttributes = new(StringComparer.Ordinal)
    {
        "Type", "Properties", "Condition", "DependsOn", "Metadata", "DeletionPolicy", "UpdateReplacePolicy",
        "CreationPolicy", "UpdatePolicy",
    };

    /// <summary>What a SAM resource becomes, for checking !GetAtt on it against the CloudFormation spec.</summary>
    private static readonly Dictionary<string, string> SamGeneratedTypes = new(StringComparer.Ordinal)
    {
        ["AWS::Serverless::Function"] = "AWS::Lambda::Function",
    };

    public static JsonObject Section(JsonObject template, string name) => template[name] as JsonObject ?? [];

    public static IEnumerable<(string Id, JsonObject Resource, string Type)> Resources(JsonObject template) =>
        Section(template, "Resources")
            .Select(kv => (kv.Key, kv.Value as JsonObject ?? [], (kv.Value as JsonObject)?["Type"]?.GetValue<string>() ?? ""));

    // ------------------------------------------------------------------ CloudFormation resource spec
    public static List<string> CheckAgainstSpec(JsonObject template, CfnSpec spec) => CheckAgainstSpec(template, spec, out _);

    /// <param name="propertiesChecked">How many property values (nested ones included) were matched against the spec.</param>
    public static List<string> CheckAgainstSpec(JsonObject template, CfnSpec spec, out int propertiesChecked)
    {
        var problems = new List<string>();
        propertiesChecked = 0;
        var resourceTypes = Resources(template).ToDictionary(r => r.Id, r => r.Type, StringComparer.Ordinal);
        foreach (var (id, resource, type) in Resources(template))
        {
            foreach (var key in resource.Select(kv => kv.Key).Where(k => !ResourceAttributes.Contains(k)))
            {
                problems.Add($"{id}: unknown resource attribute '{key}'");
            }

            if (!type.StartsWith("AWS::", StringComparison.Ordinal) || type.StartsWith("AWS::Serverless::", StringComparison.Ordinal))
            {
                continue; // SAM resources are checked by the SAM schema; Custom:: resources have no spec
            }

            if (!spec.TryGetProperties(type, out var propertySpecs))
            {
                problems.Add($"{id}: unknown resource type '{type}'");
                continue;
            }

            var properties = resource["Properties"];
            if (properties is null)
            {
                properties = new JsonObject();
            }

            CheckObject(spec, $"{id}.Properties", properties, propertySpecs, problems);
        }

        propertiesChecked = checkedCount.Value;
        checkedCount.Value = 0;

        foreach (var (path, target, attribute) in GetAtts(template))
        {
            if (!resourceTypes.TryGetValue(target, out var type))
            {
                continue; // reported by CheckReferences
            }

            var specType = SamGeneratedTypes.GetValueOrDefault(type, type);
            if (specType.StartsWith("AWS::Serverless::", StringComparison.Ordinal) || !spec.HasResourceType(specType))
            {
                continue;
            }

            if (!spec.Attributes(specType).Contains(attribute))
            {
                problems.Add($"{path}: {target} ({specType}) has no attribute '{attribute}' for Fn::GetAtt");
            }
        }

        return problems;
    }

    [ThreadStatic]
    private static StrongBox<int>? checkedCountBox;

    private static StrongBox<int> checkedCount => checkedCountBox ??= new StrongBox<int>();

    private static void CheckObject(CfnSpec spec, string path, JsonNode value, JsonElement propertySpecs, List<string> problems)
    {
        foreach (var branch in Branches(value))
        {
            if (branch is not JsonObject obj || IsIntrinsic(obj))
            {
                continue;
            }

            foreach (var (name, child) in obj)
            {
                if (!propertySpecs.TryGetProperty(name, out var propertySpec))
                {
                    problems.Add($"{path}: unknown property '{name}'");
                    continue;
                }

                checkedCount.Value++;

                if (child is not null)
                {
                    CheckValue(spec, $"{path}.{name}", child, propertySpec.GetProperty("type"), problems);
                }
            }

            foreach (var required in propertySpecs.EnumerateObject()
                         .Where(p => p.Value.TryGetProperty("required", out var r) && r.ValueKind == JsonValueKind.True))
            {
                if (!obj.ContainsKey(required.Name))
                {
                    problems.Add($"{path}: missing required property '{required.Name}'");
                }
            }
        }
    }

    private static void CheckValue(CfnSpec spec, string path, JsonNode value, JsonElement type, List<string> problems)
    {
        foreach (var branch in Branches(value))
        {
            if (branch is null || (branch is JsonObject o && IsIntrinsic(o)))
            {
                continue;
            }

            switch (type.GetProperty("type").GetString())
            {
                case "ref":
                    var id = type.GetProperty("reference").GetProperty("$ref").GetString()!;
                    if (spec.TryGetTypeDefinition(id, out var def) && def.TryGetProperty("properties", out var props))
                    {
                        if (branch is not JsonObject)
                        {
                            problems.Add($"{path}: expected an object ({def.GetProperty("name").GetString()})");
                        }
                        else
                        {
                            CheckObject(spec, path, branch, props, problems);
                        }
                    }

                    break;
                case "array":
                    if (branch is JsonArray arr)
                    {
                        for (var i = 0; i < arr.Count; i++)
                        {
                            if (arr[i] is { } item)
                            {
                                CheckValue(spec, $"{path}[{i}]", item, type.GetProperty("element"), problems);
                            }
                        }
                    }
                    else
                    {
                        problems.Add($"{path}: expected a list");
                    }

                    break;
                case "map":
                    if (branch is JsonObject map)
                    {
                        foreach (var (k, item) in map)
                        {
                            if (item is not null)
                            {
                                CheckValue(spec, $"{path}.{k}", item, type.GetProperty("element"), problems);
                            }
                        }
                    }

                    break;
                case "union":
                    var refTypes = type.GetProperty("types").EnumerateArray()
                        .Where(t => t.GetProperty("type").GetString() == "ref").ToList();
                    if (branch is JsonObject && refTypes.Count > 0 && !type.GetProperty("types").EnumerateArray()
                            .Any(t => t.GetProperty("type").GetString() is "json" or "map"))
                    {
                        var best = refTypes.Select(t =>
                        {
                            var p = new List<string>();
                            CheckValue(spec, path, branch, t, p);
                            return p;
                        }).MinBy(p => p.Count)!;
                        problems.AddRange(best);
                    }

                    break;
                case "boolean":
                    if (branch is JsonValue bv && bv.TryGetValue<string>(out var bs) && bs is not ("true" or "false"))
                    {
                        problems.Add($"{path}: '{bs}' is not a boolean");
                    }
                    else if (branch is JsonObject or JsonArray)
                    {
                        problems.Add($"{path}: expected a boolean");
                    }

                    break;
                case "integer" or "number":
                    if (branch is JsonValue nv && nv.TryGetValue<string>(out var ns) && !double.TryParse(ns, System.Globalization.CultureInfo.InvariantCulture, out _))
                    {
                        problems.Add($"{path}: '{ns}' is not a number");
                    }
                    else if (branch is JsonObject or JsonArray)
                    {
                        problems.Add($"{path}: expected a number");
                    }

                    break;
                case "string":
                    if (branch is JsonObject or JsonArray)
                    {
                        problems.Add($"{path}: expected a string");
                    }

                    break;
                default:
                    break; // json, tag, date-time: not checked further
            }
        }
    }

    /// <summary>The values a node can take: both sides of Fn::If (minus AWS::NoValue), else the node itself.</summary>
    public static IEnumerable<JsonNode?> Branches(JsonNode? node)
    {
        if (node is JsonObject obj && obj.Count == 1 && obj["Fn::If"] is JsonArray { Count: 3 } args)
        {
            foreach (var side in new[] { args[1], args[2] })
            {
                if (side is JsonObject { Count: 1 } r && r["Ref"]?.GetValue<string>() == "AWS::NoValue")
                {
                    continue;
                }

                foreach (var inner in Branches(side))
                {
                    yield return inner;
                }
            }

            yield break;
        }

        yield return node;
    }

    public static bool IsIntrinsic(JsonObject obj) =>
        obj.Count == 1 && obj.First() is var (key, _) && (key == "Ref" || key == "Condition" || key.StartsWith("Fn::", StringComparison.Ordinal));

    // ------------------------------------------------------------------ references
    public static IEnumerable<(string Path, string Target, string Attribute)> GetAtts(JsonObject template)
    {
        foreach (var (path, node) in Walk(template, ""))
        {
            if (node is not JsonObject { Count: 1 } obj)
            {
                continue;
            }

            if (obj["Fn::GetAtt"] is JsonArray { Count: 2 } ga && ga[0] is JsonValue t && ga[1] is JsonValue a
                && t.TryGetValue<string>(out var target) && a.TryGetValue<string>(out var attr))
            {
                yield return (path, target, attr);
            }
            else if (obj["Fn::GetAtt"] is JsonValue gs && gs.TryGetValue<string>(out var dotted) && dotted.Contains('.', StringComparison.Ordinal))
            {
                var dot = dotted.IndexOf('.', StringComparison.Ordinal);
                yield return (path, dotted[..dot], dotted[(dot + 1)..]);
            }

            foreach (var (name, _) in SubVariables(obj))
            {
                var dot = name.IndexOf('.', StringComparison.Ordinal);
                if (dot > 0)
                {
                    yield return (path, name[..dot], name[(dot + 1)..]);
                }
            }
        }
    }

    /// <summary>Every ${Name} in an Fn::Sub string (not ${!Literal}), and whether it is defined in Fn::Sub's own variable map.</summary>
    private static IEnumerable<(string Name, bool Local)> SubVariables(JsonObject obj)
    {
        var sub = obj["Fn::Sub"];
        string? text = null;
        JsonObject? locals = null;
        if (sub is JsonValue v && v.TryGetValue<string>(out var s))
        {
            text = s;
        }
        else if (sub is JsonArray { Count: 2 } arr && arr[0] is JsonValue v0 && v0.TryGetValue<string>(out var s0))
        {
            text = s0;
            locals = arr[1] as JsonObject;
        }

        if (text is null)
        {
            yield break;
        }

        foreach (Match m in SubVariable().Matches(text))
        {
            var name = m.Groups[1].Value.Trim();
            if (name.StartsWith('!'))
            {
                continue;
            }

            yield return (name, locals?.ContainsKey(name) == true);
        }
    }

    public static List<string> CheckReferences(JsonObject template)
    {
        var problems = new List<string>();
        var parameters = Section(template, "Parameters").Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
        var resources = Section(template, "Resources").Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
        var conditions = Section(template, "Conditions").Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);

        bool IsValue(string name) => parameters.Contains(name) || resources.Contains(name) || PseudoParameters.Contains(name);

        foreach (var section in new[] { "Conditions", "Resources", "Outputs" })
        {
            foreach (var (path, node) in Walk(Section(template, section), section))
            {
                if (node is not JsonObject obj)
                {
                    continue;
                }

                if (obj.Count == 1 && obj["Ref"] is JsonValue rv && rv.TryGetValue<string>(out var refName))
                {
                    if (section == "Conditions" && resources.Contains(refName))
                    {
                        problems.Add($"{path}: conditions can only Ref parameters, not resource '{refName}'");
                    }
                    else if (!IsValue(refName))
                    {
                        problems.Add($"{path}: Ref to unknown '{refName}'");
                    }
                }

                if (obj.Count == 1 && obj["Fn::If"] is JsonArray ifArgs)
                {
                    var name = ifArgs.Count > 0 && ifArgs[0] is JsonValue c && c.TryGetValue<string>(out var cn) ? cn : null;
                    if (ifArgs.Count != 3 || name is null || !conditions.Contains(name))
                    {
                        problems.Add($"{path}: Fn::If with unknown condition '{name}'");
                    }
                }

                if (obj["Condition"] is JsonValue cv && cv.TryGetValue<string>(out var condName) && !conditions.Contains(condName))
                {
                    problems.Add($"{path}: unknown condition '{condName}'");
                }

                foreach (var (name, local) in SubVariables(obj))
                {
                    var head = name.Split('.')[0];
                    if (!local && !(name.Contains('.', StringComparison.Ordinal) ? resources.Contains(head) : IsValue(name)))
                    {
                        problems.Add($"{path}: Fn::Sub variable '${{{name}}}' is not a parameter, resource or pseudo parameter");
                    }
                }

                if (obj.Count == 1 && obj.ContainsKey("Fn::GetAtt"))
                {
                    foreach (var (_, target, _) in GetAtts(new JsonObject { ["x"] = obj.DeepClone() }))
                    {
                        if (!resources.Contains(target))
                        {
                            problems.Add($"{path}: Fn::GetAtt on unknown resource '{target}'");
                        }
                    }
                }
            }
        }

        foreach (var (id, resource, _) in Resources(template))
        {
            var dependsOn = resource["DependsOn"];
            var targets = dependsOn is JsonArray a ? a.Select(x => x?.GetValue<string>()) : [dependsOn?.GetValue<string>()];
            foreach (var target in targets.Where(t => t is not null && !resources.Contains(t)))
            {
                problems.Add($"Resources.{id}.DependsOn: unknown resource '{target}'");
            }
        }

        return problems;
    }

    // ------------------------------------------------------------------ IAM
    /// <summary>Statements of every IAM policy in the template (IAM roles, policies, SAM function inline policies), Fn::If branches expanded.</summary>
    public static IEnumerable<(string Path, JsonObject Statement)> IamStatements(JsonObject template)
    {
        foreach (var (id, resource, type) in Resources(template))
        {
            var props = resource["Properties"] as JsonObject ?? [];
            var documents = new List<(string, JsonNode?)>();
            switch (type)
            {
                case "AWS::IAM::Role" or "AWS::IAM::User" or "AWS::IAM::Group":
                    foreach (var policy in Branches(props["Policies"]).OfType<JsonArray>().SelectMany(a => a).SelectMany(Branches).OfType<JsonObject>())
                    {
                        documents.Add(($"{id}.Policies.{policy["PolicyName"]}", policy["PolicyDocument"]));
                    }

                    break;
                case "AWS::IAM::Policy" or "AWS::IAM::ManagedPolicy" or "AWS::IAM::RolePolicy":
                    documents.Add((id, props["PolicyDocument"]));
                    break;
                case "AWS::Serverless::Function":
                    foreach (var policy in Branches(props["Policies"]).OfType<JsonArray>().SelectMany(a => a).SelectMany(Branches).OfType<JsonObject>())
                    {
                        documents.Add(($"{id}.Policies", policy.ContainsKey("Statement") ? policy : null));
                    }

                    break;
                default:
                    break;
            }

            foreach (var (path, document) in documents)
            {
                foreach (var doc in Branches(document).OfType<JsonObject>())
                {
                    var statements = doc["Statement"];
                    var list = statements is JsonArray arr ? arr.SelectMany(Branches) : Branches(statements);
                    foreach (var statement in list.OfType<JsonObject>())
                    {
                        yield return (path, statement);
                    }
                }
            }
        }
    }

    private static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => [s],
        JsonArray a => a.SelectMany(Strings),
        _ => [],
    };

    /// <summary>No statement may grant on Resource "*" unless every action in it is in <paramref name="actionsAllowedOnStar"/>.</summary>
    public static List<string> CheckIamWildcards(JsonObject template, IReadOnlySet<string> actionsAllowedOnStar)
    {
        var problems = new List<string>();
        foreach (var (path, statement) in IamStatements(template))
        {
            var actions = Strings(statement["Action"]).ToList();
            if (statement.ContainsKey("NotAction") || statement.ContainsKey("NotResource"))
            {
                problems.Add($"{path}: NotAction/NotResource grants more than it names");
            }

            foreach (var action in actions.Where(a => a == "*" || a.EndsWith(":*", StringComparison.Ordinal)))
            {
                problems.Add($"{path}: wildcard action '{action}'");
            }

            var resources = Branches(statement["Resource"]).SelectMany(Strings).ToList();
            if (resources.Contains("*"))
            {
                foreach (var action in actions.Where(a => !actionsAllowedOnStar.Contains(a)))
                {
                    problems.Add($"{path}: '{action}' is granted on Resource \"*\" although a narrower ARN exists");
                }
            }
        }

        return problems;
    }

    // ------------------------------------------------------------------ secrets
    public static List<string> CheckNoPlainSecrets(JsonObject template, IReadOnlySet<string> allowedSecretEnvNames)
    {
        var problems = new List<string>();
        foreach (var (name, parameter) in Section(template, "Parameters"))
        {
            var def = parameter?["Default"];
            var allowed = (parameter?["AllowedValues"] as JsonArray)?.Select(v => v?.ToString()).ToHashSet() ?? [];
            var isOnOffFlag = allowed.Count > 0 && allowed.SetEquals(["true", "false"]); // e.g. CreateSecretsManagerEndpoint
            if (SecretLikeName().IsMatch(name) && !isOnOffFlag && def is not null && def.ToString().Length > 0)
            {
                problems.Add($"Parameters.{name}: a secret-like parameter has a default value");
            }
        }

        var envs = Resources(template)
            .Where(r => r.Type is "AWS::Serverless::Function" or "AWS::Lambda::Function")
            .Select(r => ($"Resources.{r.Id}", r.Resource["Properties"]?["Environment"]?["Variables"] as JsonObject))
            .Append(("Globals.Function", template["Globals"]?["Function"]?["Environment"]?["Variables"] as JsonObject));
        foreach (var (path, variables) in envs)
        {
            foreach (var (name, _) in variables ?? [])
            {
                if (SecretLikeName().IsMatch(name) && !allowedSecretEnvNames.Contains(name))
                {
                    problems.Add($"{path}.Environment.{name}: secret-like environment variable (only secret ARNs may be passed)");
                }
            }
        }

        return problems;
    }

    // ------------------------------------------------------------------ security groups
    public static List<string> CheckIngressNeverOpenToWorld(JsonObject template)
    {
        var problems = new List<string>();
        var parameters = Section(template, "Parameters");
        string? Resolve(JsonNode? node) => node switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonObject { Count: 1 } o when o["Ref"] is JsonValue r && r.TryGetValue<string>(out var p) => parameters[p]?["Default"]?.ToString(),
            _ => null,
        };

        var rules = new List<(string, JsonObject)>();
        foreach (var (id, resource, type) in Resources(template))
        {
            var props = resource["Properties"] as JsonObject ?? [];
            if (type == "AWS::EC2::SecurityGroup")
            {
                foreach (var rule in Branches(props["SecurityGroupIngress"]).OfType<JsonArray>().SelectMany(a => a).SelectMany(Branches).OfType<JsonObject>())
                {
                    rules.Add(($"{id}.SecurityGroupIngress", rule));
                }
            }
            else if (type == "AWS::EC2::SecurityGroupIngress")
            {
                rules.Add((id, props));
            }
        }

        foreach (var (path, rule) in rules)
        {
            foreach (var cidr in Branches(rule["CidrIp"]).Concat(Branches(rule["CidrIpv6"])).Select(Resolve))
            {
                if (cidr is "0.0.0.0/0" or "::/0")
                {
                    problems.Add($"{path}: ingress open to {cidr}");
                }
            }
        }

        return problems;
    }

    // ------------------------------------------------------------------ helpers
    public static IEnumerable<(string Path, JsonNode Node)> Walk(JsonNode? node, string path)
    {
        if (node is null)
        {
            yield break;
        }

        yield return (path, node);
        switch (node)
        {
            case JsonObject obj:
                foreach (var (k, v) in obj)
                {
                    foreach (var x in Walk(v, path.Length == 0 ? k : $"{path}.{k}"))
                    {
                        yield return x;
                    }
                }

                break;
            case JsonArray arr:
                for (var i = 0; i < arr.Count; i++)
                {
                    foreach (var x in Walk(arr[i], $"{path}[{i}]"))
                    {
                        yield return x;
                    }
                }

                break;
            default:
                break;
        }
    }

    [GeneratedRegex(@"\$\{([^}]+)\}")]
    private static partial Regex SubVariable();

    [GeneratedRegex("password|secret|token|credential|apikey|api_key", RegexOptions.IgnoreCase)]
    private static partial Regex SecretLikeName();
}
