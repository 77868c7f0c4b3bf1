using System.Globalization;

namespace MskClickHouse.EmbeddedClickHouse;

/// <summary>Command line of the server.</summary>
internal sealed record ServerOptions
{
    public const string Usage =
        "usage: EmbeddedClickHouse [--port N] [--data DIR] [--lib PATH] [--user NAME] [--password SECRET] [--log] [--exit-on-stdin-close]";

    public int Port { get; init; } = 8123;

    /// <summary>Data directory; null means a fresh temporary one, deleted on exit.</summary>
    public string? DataDirectory { get; init; }

    public string? LibraryPath { get; init; }

    public string User { get; init; } = "default";

    public string Password { get; init; } = string.Empty;

    public bool Log { get; init; }

    /// <summary>Stop when stdin reaches end of file, i.e. when the parent process that holds it is gone.</summary>
    public bool ExitOnStdinClose { get; init; }

    public static ServerOptions Parse(IReadOnlyList<string> args)
    {
        var options = new ServerOptions();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value. {Usage}");
            options = args[i] switch
            {
                "--port" => options with { Port = int.Parse(Value(), NumberStyles.None, CultureInfo.InvariantCulture) },
                "--data" => options with { DataDirectory = Path.GetFullPath(Value()) },
                "--lib" => options with { LibraryPath = Value() },
                "--user" => options with { User = Value() },
                "--password" => options with { Password = Value() },
                "--log" => options with { Log = true },
                "--exit-on-stdin-close" => options with { ExitOnStdinClose = true },
                _ => throw new ArgumentException($"unknown argument {args[i]}. {Usage}"),
            };
        }

        return options;
    }
}
