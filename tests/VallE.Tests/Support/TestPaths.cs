namespace VallE.Tests.Support;

/// <summary>
/// Locates the repository root and the shared golden fixtures (<c>../shared</c> beside the checkout).
/// Tests that need fixtures call <see cref="RequireShared"/>, which skips them with a clear message when absent.
/// </summary>
public static class TestPaths
{
    private static readonly Lazy<string> Root = new(FindRepoRoot);

    /// <summary>The repository root (the folder holding VallE.sln).</summary>
    public static string RepoRoot => Root.Value;

    /// <summary>The shared data folder: $VALLE_SHARED, else ../shared beside the repository root.</summary>
    public static string SharedDir =>
        Environment.GetEnvironmentVariable("VALLE_SHARED") is { Length: > 0 } env
            ? env
            : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static string Fixtures => Path.Combine(SharedDir, "fixtures");

    /// <summary>Path of a file under shared/fixtures; skips the test when it is missing.</summary>
    public static string RequireShared(params string[] relative)
    {
        string path = Path.Combine([Fixtures, .. relative]);
        if (!File.Exists(path) && !Directory.Exists(path))
            Assert.Ignore($"shared fixture not found: {path} (clone ../shared beside the repository, or set VALLE_SHARED)");
        return path;
    }

    /// <summary>A fresh temporary directory deleted when the returned handle is disposed.</summary>
    public static TempDir CreateTempDir() => new();

    private static string FindRepoRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null)
        {
            if (File.Exists(Path.Combine(dir, "VallE.sln"))) return dir;
            dir = Path.GetDirectoryName(dir);
        }
        throw new InvalidOperationException("could not find VallE.sln above " + AppContext.BaseDirectory);
    }
}

public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "valle-test-" + Guid.NewGuid().ToString("N"));

    public TempDir() => Directory.CreateDirectory(Path);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
