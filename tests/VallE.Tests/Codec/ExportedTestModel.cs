using System.Diagnostics;
using System.Security.Cryptography;
using VallE.Runtime.Onnx;
using VallE.Tests.Support;

namespace VallE.Tests.Codec;

/// <summary>
/// A model made by one of our export scripts in tools/ with /usr/bin/python3 the first time a test needs it, cached
/// under artifacts/<paramref name="cacheFolder"/>/seed{seed}-{hash of the scripts}/ (a changed script re-exports;
/// older exports are deleted). Tests skip with a message when Python lacks torch/onnx (build.sh installs
/// python3-torch and python3-onnx); a failing export fails the test. Shared by the EnCodec and Vocos test models.
/// </summary>
/// <param name="what">what the export makes, for messages ("EnCodec models").</param>
/// <param name="scripts">the export script first, then the files it imports (all hashed into the cache key).</param>
/// <param name="arguments">the script's arguments after <c>--out DIR</c>.</param>
internal sealed class ExportedTestModel(string what, string cacheFolder, int seed, string[] scripts, string[] arguments)
{
    private readonly Lock _gate = new();
    private string? _dir;
    private string? _failure;

    /// <summary>The folder holding the export; skips the test when it cannot be made here.</summary>
    public string Require()
    {
        // ONNX Runtime comes with the Microsoft.ML.OnnxRuntime package: failing to load it is a broken build (fails).
        OnnxRuntimeInfo.Load();
        lock (_gate)
        {
            if (_dir is not null) return _dir;
            if (_failure is not null) Assert.Ignore(_failure);
            try
            {
                return _dir = Export();
            }
            catch (IgnoreException e)
            {
                _failure = e.Message;
                throw;
            }
        }
    }

    private string Export()
    {
        string tools = Path.Combine(TestPaths.RepoRoot, "tools");
        string key = Hash(scripts.Select(s => File.ReadAllBytes(Path.Combine(tools, s))).ToArray());
        string dir = Path.Combine(TestPaths.RepoRoot, "artifacts", cacheFolder, $"seed{seed}-{key}");
        if (File.Exists(Path.Combine(dir, "export.json"))) return dir;

        const string python = "/usr/bin/python3";
        if (!File.Exists(python)) Assert.Ignore($"{python} not found: cannot export the test {what}");
        if (Run(python, ["-c", "import torch, onnx"], out string probe) != 0)
            Assert.Ignore($"{python} has no torch/onnx ({LastLine(probe)}): cannot export the test {what} (apt-get install python3-torch python3-onnx)");

        string tmp = dir + ".tmp" + Environment.ProcessId;
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        int rc = Run(python, [Path.Combine(tools, scripts[0]), "--out", tmp, .. arguments], out string log);
        if (rc != 0) Assert.Fail($"{scripts[0]} failed (exit {rc}):\n{log}");
        try { Directory.Move(tmp, dir); }
        catch (IOException) when (File.Exists(Path.Combine(dir, "export.json"))) { Directory.Delete(tmp, recursive: true); }  // another process won
        // Exports of older script versions are dead weight (tens of MB each).
        foreach (string old in Directory.GetDirectories(Path.GetDirectoryName(dir)!, $"seed{seed}-*"))
        {
            if (old == dir || old.Contains(".tmp", StringComparison.Ordinal)) continue;
            try { Directory.Delete(old, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        return dir;
    }

    internal static int Run(string file, string[] args, out string output)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["OMP_NUM_THREADS"] = "2";
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        output = stdout + stderr.Result;
        return p.ExitCode;
    }

    internal static string LastLine(string s) => s.Trim().Split('\n').LastOrDefault() ?? "";

    internal static string Hash(params byte[][] parts)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var p in parts) sha.AppendData(p);
        return Convert.ToHexString(sha.GetHashAndReset())[..12].ToLowerInvariant();
    }
}
