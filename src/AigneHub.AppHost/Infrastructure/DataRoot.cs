using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;

namespace AigneHub.AppHost.Infrastructure;

/// <summary>
/// Where local-process infrastructure keeps its state: <c>--data-dir</c> if given, else <c>/var/lib/aignehub</c>
/// for root (the <c>postgres</c> user must be able to reach it, and <c>/root</c> is private), else
/// <c>$XDG_DATA_HOME/aignehub</c>.
/// </summary>
internal sealed class DataRoot
{
    public const string Key = "data-dir";

    private DataRoot(string path) => Path = path;

    public string Path { get; }

    public static bool RunningAsRoot => Environment.UserName == "root";

    public static DataRoot Resolve(IConfiguration configuration)
    {
        var path = configuration[Key];
        if (string.IsNullOrWhiteSpace(path))
        {
            var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
            path = RunningAsRoot
                ? "/var/lib/aignehub"
                : System.IO.Path.Combine(string.IsNullOrWhiteSpace(xdg)
                    ? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share")
                    : xdg, "aignehub");
        }
        path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(path);
        if (RunningAsRoot)
        {
            // Others (the postgres user) must traverse it to reach their own sub-folder.
            SetUnixMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        }
        return new DataRoot(path);
    }

    /// <summary>File modes matter only where local processes run (Linux, macOS); Windows has ACLs instead.</summary>
    public static void SetUnixMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>A secret kept in a file readable only by this user, created on first use as <paramref name="prefix"/>
    /// followed by random hex; the file holds exactly the value callers use.</summary>
    public (string Value, bool Created) ReadOrCreateSecret(string name, int bytes = 24, string prefix = "")
    {
        var file = Combine(name);
        if (File.Exists(file))
        {
            return (File.ReadAllText(file).Trim(), false);
        }
        var value = prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));
        File.WriteAllText(file, value);
        SetUnixMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return (value, true);
    }
}
