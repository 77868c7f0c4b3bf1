using System.Reflection;
using System.Runtime.InteropServices;

namespace MskClickHouse.EmbeddedClickHouse.Chdb;

/// <summary>Finds and loads libchdb.so, and points <see cref="ChdbNative"/>'s imports at it.</summary>
internal static class ChdbLibrary
{
    public const string Version = "26.7.3-stable.1";

    /// <summary>Where scripts/install-chdb.sh puts the library unless CHDB_CACHE_DIR says otherwise.</summary>
    public static string DefaultPath()
    {
        var cacheDir = Environment.GetEnvironmentVariable("CHDB_CACHE_DIR");
        if (string.IsNullOrEmpty(cacheDir))
        {
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            var cacheHome = string.IsNullOrEmpty(xdg)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
                : xdg;
            cacheDir = Path.Combine(cacheHome, "msk-clickhouse", "chdb", Version);
        }

        return Path.Combine(cacheDir, "libchdb.so");
    }

    /// <summary>--lib, else CHDB_LIB, else the install script's cache path.</summary>
    public static string Resolve(string? explicitPath)
    {
        if (!string.IsNullOrEmpty(explicitPath))
        {
            return explicitPath;
        }

        var fromEnv = Environment.GetEnvironmentVariable("CHDB_LIB");
        return string.IsNullOrEmpty(fromEnv) ? DefaultPath() : fromEnv;
    }

    public static void Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"libchdb.so not found at {path}. Run scripts/install-chdb.sh (or pass --lib / set CHDB_LIB).", path);
        }

        var handle = NativeLibrary.Load(path);
        NativeLibrary.SetDllImportResolver(
            Assembly.GetExecutingAssembly(),
            (name, _, _) => name == ChdbNative.Library ? handle : 0);
    }
}
