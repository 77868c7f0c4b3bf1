using Tomlyn;
using Tomlyn.Model;

namespace MskClickHouse.Template.Tests;

/// <summary>
/// samconfig.toml as SAM CLI 1.164 reads it (samcli/lib/config/samconfig.py, SamConfig.get_all): for command C of
/// environment E, [E.global.parameters] with [E.C.parameters] laid over it, a key of the command replacing the global
/// one whole. Command names are SAM CLI's keys: "build", "deploy", "local_invoke" (sam local invoke), ...
/// </summary>
public static class SamConfig
{
    public static TomlTable Read(string path = "samconfig.toml") =>
        TomlSerializer.Deserialize<TomlTable>(File.ReadAllText(Repo.File(path)))!;

    public static Dictionary<string, object> Effective(TomlTable config, string environment, string command)
    {
        var result = new Dictionary<string, object>(StringComparer.Ordinal);
        if (config.TryGetValue(environment, out var env) && env is TomlTable envTable)
        {
            foreach (var section in new[] { "global", command })
            {
                if (envTable.TryGetValue(section, out var s) && s is TomlTable t && t.TryGetValue("parameters", out var p) && p is TomlTable parameters)
                {
                    foreach (var (k, v) in parameters)
                    {
                        result[k] = v;
                    }
                }
            }
        }

        return result;
    }

    /// <summary>parameter_overrides as SAM CLI passes them on: a list of "Name=Value" (or one space-separated string).</summary>
    public static Dictionary<string, string> ParameterOverrides(IReadOnlyDictionary<string, object> effective)
    {
        if (!effective.TryGetValue("parameter_overrides", out var raw))
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }

        var items = raw is TomlArray a ? a.Select(o => (string)o!) : ((string)raw).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return items.Select(i => i.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1], StringComparer.Ordinal);
    }
}
