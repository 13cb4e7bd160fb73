namespace AigneHub.Tests.Infrastructure;

internal static class RepositoryPaths
{
    /// <summary>The folder holding AigneHub.sln, found by walking up from the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AigneHub.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"AigneHub.sln not found above {AppContext.BaseDirectory}");
    }

    /// <summary>A fresh folder that the postgres OS user can reach too (tests may run as root).</summary>
    public static string NewTempFolder(string prefix)
    {
        var path = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }
}
