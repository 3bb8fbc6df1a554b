using System.Text.Json;
using VallE.Benchmarking;
using VallE.Tests.Support;

namespace VallE.Tests.Sampling;

/// <summary>
/// Runs bench/reference/valle_reference.py with the interpreter `valle bench` uses (Debian's /usr/bin/python3, the
/// one with torch). Tests that need it are skipped when torch cannot be imported. One thread: quick and steady.
/// </summary>
internal static class TorchReference
{
    private static readonly string Python = BenchSetup.DefaultPython;
    private static readonly Lazy<string?> Missing = new(() =>
        TorchReferenceRunner.IsAvailable(Python, CancellationToken.None, out string why) ? null : why);

    public static string Script => Path.Combine(TestPaths.RepoRoot, "bench", "reference", "valle_reference.py");

    public static void RequireTorch()
    {
        if (Missing.Value is { } why) Assert.Ignore($"PyTorch reference unavailable: {why}");
    }

    /// <summary>Runs the script (2 minutes at most); returns its last stdout line parsed as JSON.</summary>
    public static JsonElement RunJson(params string[] args)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (code, stdout, stderr) = PythonProcess.Run(Python, [Script, "--threads", "1", .. args], 1, timeout.Token);
        string last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
        if (!last.StartsWith('{')) Assert.Fail($"reference exited {code} without JSON:\n{stdout}\n{stderr}");
        return JsonDocument.Parse(last).RootElement.Clone();
    }
}
