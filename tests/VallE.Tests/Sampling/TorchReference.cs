using System.Diagnostics;
using System.Text.Json;
using VallE.Tests.Support;

namespace VallE.Tests.Sampling;

/// <summary>
/// Runs bench/reference/valle_reference.py with Debian's /usr/bin/python3 (the one with torch). Tests that need it
/// are skipped when that interpreter or torch is missing. One thread, so the run is quick and steady on a busy box.
/// </summary>
internal static class TorchReference
{
    private const string Python = "/usr/bin/python3";
    private static readonly Lazy<string?> Missing = new(FindMissing);

    public static string Script => Path.Combine(TestPaths.RepoRoot, "bench", "reference", "valle_reference.py");

    public static void RequireTorch()
    {
        if (Missing.Value is { } why) Assert.Ignore($"PyTorch reference unavailable: {why}");
    }

    /// <summary>Runs the script; returns the last stdout line parsed as JSON.</summary>
    public static JsonElement RunJson(params string[] args)
    {
        var (code, stdout, stderr) = Run(TimeSpan.FromMinutes(2), [Script, "--threads", "1", .. args]);
        string last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
        if (!last.StartsWith('{')) Assert.Fail($"reference exited {code} without JSON:\n{stdout}\n{stderr}");
        return JsonDocument.Parse(last).RootElement.Clone();
    }

    private static (int Code, string Out, string Err) Run(TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["OMP_NUM_THREADS"] = "1";
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{Python} {string.Join(' ', args)} ran past {timeout}");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    private static string? FindMissing()
    {
        if (!File.Exists(Python)) return $"{Python} not found";
        try
        {
            var (code, _, err) = Run(TimeSpan.FromMinutes(1), "-c", "import torch, numpy");
            return code == 0 ? null : $"{Python} cannot import torch/numpy: {err.Trim().Split('\n').LastOrDefault()}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return e.Message;
        }
    }
}
