using System.Text;
using System.Text.RegularExpressions;

namespace MskClickHouse.Template.Tests;

/// <summary>
/// The relative links of Markdown files and whether they resolve: the target file or folder exists, and a
/// <c>#fragment</c> into a Markdown file names one of its headings (GitHub's heading ids). Links in fenced code and
/// inline code are not links; absolute URLs (<c>https:</c>, <c>mailto:</c>) are not checked.
/// </summary>
internal static partial class MarkdownLinks
{
    /// <summary>One line per broken link: <c>file:line: target (why)</c>, file relative to <paramref name="root"/>.</summary>
    public static List<string> Broken(string root, IEnumerable<string> relativeFiles)
    {
        var broken = new List<string>();
        foreach (var file in relativeFiles)
        {
            var path = Path.Combine(root, file);
            var lines = File.ReadAllLines(path);
            foreach (var (line, target) in Links(lines))
            {
                var why = Resolve(path, target);
                if (why is not null)
                {
                    broken.Add($"{file.Replace('\\', '/')}:{line}: {target} ({why})");
                }
            }
        }

        return broken;
    }

    /// <summary>Null when <paramref name="target"/>, written in <paramref name="fromFile"/>, resolves; else why not.</summary>
    private static string? Resolve(string fromFile, string target)
    {
        var hash = target.IndexOf('#', StringComparison.Ordinal);
        var pathPart = Uri.UnescapeDataString(hash < 0 ? target : target[..hash]);
        var fragment = hash < 0 ? null : target[(hash + 1)..];
        var resolved = pathPart.Length == 0 ? fromFile : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(fromFile)!, pathPart));
        if (!File.Exists(resolved) && !Directory.Exists(resolved))
        {
            return "no such file";
        }

        if (string.IsNullOrEmpty(fragment) || !resolved.EndsWith(".md", StringComparison.OrdinalIgnoreCase) || !File.Exists(resolved))
        {
            return null;
        }

        return HeadingIds(File.ReadAllLines(resolved)).Contains(Uri.UnescapeDataString(fragment))
            ? null
            : $"no heading #{fragment} in {Path.GetFileName(resolved)}";
    }

    /// <summary>The relative link targets of a Markdown text with their 1-based line numbers.</summary>
    public static IEnumerable<(int Line, string Target)> Links(IReadOnlyList<string> lines)
    {
        var inFence = false;
        for (var i = 0; i < lines.Count; i++)
        {
            if (Fence().IsMatch(lines[i]))
            {
                inFence = !inFence;
                continue;
            }

            if (inFence)
            {
                continue;
            }

            foreach (Match m in Link().Matches(InlineCode().Replace(lines[i], "")))
            {
                var target = m.Groups["target"].Value;
                if (!Absolute().IsMatch(target))
                {
                    yield return (i + 1, target);
                }
            }
        }
    }

    /// <summary>The ids GitHub gives a file's headings: lower case, only letters, digits, '-', '_' and spaces kept,
    /// spaces as '-', a repeated id suffixed -1, -2, ...</summary>
    public static HashSet<string> HeadingIds(IReadOnlyList<string> lines)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var inFence = false;
        foreach (var line in lines)
        {
            if (Fence().IsMatch(line))
            {
                inFence = !inFence;
                continue;
            }

            var heading = Heading().Match(line);
            if (inFence || !heading.Success)
            {
                continue;
            }

            var text = Link().Replace(heading.Groups["text"].Value, m => m.Groups["text"].Value);
            var id = new StringBuilder();
            foreach (var c in text.ToLowerInvariant())
            {
                if (char.IsLetterOrDigit(c) || c is '-' or '_')
                {
                    id.Append(c);
                }
                else if (c == ' ')
                {
                    id.Append('-');
                }
            }

            var unique = id.ToString();
            for (var n = 1; !ids.Add(unique); n++)
            {
                unique = $"{id}-{n}";
            }
        }

        return ids;
    }

    [GeneratedRegex(@"^\s{0,3}(```|~~~)")]
    private static partial Regex Fence();

    [GeneratedRegex(@"`[^`]*`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"!?\[(?<text>[^\]]*)\]\((?<target>[^)\s]+)(\s+""[^""]*"")?\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9+.-]*:")]
    private static partial Regex Absolute();

    [GeneratedRegex(@"^\s{0,3}#{1,6}\s+(?<text>.*?)\s*#*\s*$")]
    private static partial Regex Heading();
}
