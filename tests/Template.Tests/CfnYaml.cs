using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace MskClickHouse.Template.Tests;

/// <summary>
/// Reads a CloudFormation/SAM YAML template into JSON, turning short-form intrinsic tags (<c>!Ref</c>, <c>!Sub</c>,
/// <c>!GetAtt</c>, ...) into their long form (<c>{"Ref": ...}</c>, <c>{"Fn::Sub": ...}</c>, ...), the shape the JSON
/// schema and the CloudFormation spec describe. Plain scalars follow the YAML 1.2 core schema (int, float, bool,
/// null); quoted scalars stay strings.
/// </summary>
public static partial class CfnYaml
{
    private static readonly HashSet<string> FnTags = new(StringComparer.Ordinal)
    {
        "Sub", "If", "Select", "Split", "Join", "Equals", "Not", "And", "Or", "FindInMap", "GetAZs",
        "ImportValue", "Base64", "Cidr", "Transform", "Length", "ToJsonString",
        // Rules-only functions (the Rules section).
        "Contains", "EachMemberEquals", "EachMemberIn", "RefAll", "ValueOf", "ValueOfAll",
    };

    public static JsonObject Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        if (stream.Documents.Count != 1)
        {
            throw new FormatException($"expected one YAML document, found {stream.Documents.Count}");
        }

        return Convert(stream.Documents[0].RootNode) as JsonObject
            ?? throw new FormatException("the template's root is not a mapping");
    }

    public static JsonObject Load(string path) => Parse(File.ReadAllText(path));

    private static JsonNode? Convert(YamlNode node)
    {
        var tag = node.Tag.IsEmpty ? null : node.Tag.Value;
        if (tag is not null && tag.StartsWith('!') && !tag.StartsWith("!!", StringComparison.Ordinal)
            && !tag.StartsWith("tag:yaml.org", StringComparison.Ordinal))
        {
            return ConvertIntrinsic(tag[1..], node);
        }

        return ConvertUntagged(node, tag);
    }

    private static JsonNode? ConvertUntagged(YamlNode node, string? tag)
    {
        switch (node)
        {
            case YamlMappingNode map:
                var obj = new JsonObject();
                foreach (var (key, value) in map.Children)
                {
                    var name = ((YamlScalarNode)key).Value ?? "";
                    if (obj.ContainsKey(name))
                    {
                        throw new FormatException($"duplicate key '{name}' at {key.Start}");
                    }

                    obj[name] = Convert(value);
                }

                return obj;
            case YamlSequenceNode seq:
                var arr = new JsonArray();
                foreach (var item in seq.Children)
                {
                    arr.Add(Convert(item));
                }

                return arr;
            case YamlScalarNode scalar:
                return ConvertScalar(scalar, tag);
            default:
                throw new FormatException($"unsupported YAML node {node.NodeType} at {node.Start}");
        }
    }

    private static JsonNode? ConvertScalar(YamlScalarNode scalar, string? tag)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded
            || tag is "tag:yaml.org,2002:str" or "!!str")
        {
            return JsonValue.Create(text);
        }

        if (text is "" or "~" or "null" or "Null" or "NULL")
        {
            return null;
        }

        if (text is "true" or "True" or "TRUE")
        {
            return JsonValue.Create(true);
        }

        if (text is "false" or "False" or "FALSE")
        {
            return JsonValue.Create(false);
        }

        if (IntPattern().IsMatch(text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            return JsonValue.Create(l);
        }

        if (FloatPattern().IsMatch(text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
        {
            return JsonValue.Create(d);
        }

        return JsonValue.Create(text);
    }

    private static JsonObject ConvertIntrinsic(string name, YamlNode node)
    {
        switch (name)
        {
            case "Ref":
                return new JsonObject { ["Ref"] = ScalarText(node, name) };
            case "Condition":
                return new JsonObject { ["Condition"] = ScalarText(node, name) };
            case "GetAtt":
                if (node is YamlScalarNode s)
                {
                    // "Resource.Attribute.With.Dots": the resource name never has a dot, the attribute may.
                    var text = s.Value ?? "";
                    var dot = text.IndexOf('.', StringComparison.Ordinal);
                    if (dot <= 0 || dot == text.Length - 1)
                    {
                        throw new FormatException($"!GetAtt '{text}' is not Resource.Attribute at {node.Start}");
                    }

                    return new JsonObject { ["Fn::GetAtt"] = new JsonArray(text[..dot], text[(dot + 1)..]) };
                }

                return new JsonObject { ["Fn::GetAtt"] = ConvertUntagged(node, null) };
            default:
                if (!FnTags.Contains(name))
                {
                    throw new FormatException($"unknown intrinsic tag !{name} at {node.Start}");
                }

                return new JsonObject { ["Fn::" + name] = ConvertUntagged(node, null) };
        }
    }

    private static string ScalarText(YamlNode node, string tag) =>
        node is YamlScalarNode s ? s.Value ?? "" : throw new FormatException($"!{tag} needs a scalar at {node.Start}");

    [GeneratedRegex("^[-+]?[0-9]+$")]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();
}
