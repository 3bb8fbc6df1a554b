using System.Diagnostics;
using System.Security.Cryptography;
using VallE.Runtime.Onnx;
using VallE.Tests.Support;

namespace VallE.Tests.Codec;

/// <summary>
/// The random-weight EnCodec ONNX pair and its PyTorch reference outputs, made by tools/export_encodec_onnx.py with
/// /usr/bin/python3 the first time a test needs them and cached under artifacts/encodec-random/ (keyed by a hash
/// of the export scripts, so a changed script re-exports). Tests skip with a message when Python lacks torch/onnx.
/// </summary>
internal static class EncodecTestModels
{
    public const int Seed = 0;
    public static readonly int[] ReferenceFrames = [1, 5, 7, 23, 75];
    private static readonly Lock Gate = new();
    private static string? s_dir;
    private static string? s_failure;

    public static string Encoder => Path.Combine(Require(), "encodec_encoder.onnx");
    public static string Decoder => Path.Combine(Require(), "encodec_decoder.onnx");
    public static string Reference(string name) => Path.Combine(Require(), "reference", name);

    /// <summary>
    /// Loads ONNX Runtime. It comes with the Microsoft.ML.OnnxRuntime package, so a failure here is a broken build,
    /// not a missing optional dependency: the test fails (it used to skip when build.sh had not fetched the library).
    /// </summary>
    public static void RequireOnnxRuntime() => OnnxRuntimeInfo.Load();

    /// <summary>The folder holding the exported pair; skips the test when it cannot be made here.</summary>
    public static string Require()
    {
        RequireOnnxRuntime();
        lock (Gate)
        {
            if (s_dir is not null) return s_dir;
            if (s_failure is not null) Assert.Ignore(s_failure);
            try
            {
                s_dir = Export();
                return s_dir;
            }
            catch (IgnoreException e)
            {
                s_failure = e.Message;
                throw;
            }
        }
    }

    private static string Export()
    {
        string tools = Path.Combine(TestPaths.RepoRoot, "tools");
        string key = Hash(File.ReadAllBytes(Path.Combine(tools, "export_encodec_onnx.py")), File.ReadAllBytes(Path.Combine(tools, "encodec_arch.py")));
        string dir = Path.Combine(TestPaths.RepoRoot, "artifacts", "encodec-random", $"seed{Seed}-{key}");
        if (File.Exists(Path.Combine(dir, "export.json"))) return dir;

        const string python = "/usr/bin/python3";
        if (!File.Exists(python)) Assert.Ignore($"{python} not found: cannot export the test EnCodec models");
        if (Run(python, ["-c", "import torch, onnx"], out string probe) != 0)
            Assert.Ignore($"{python} has no torch/onnx ({LastLine(probe)}): cannot export the test EnCodec models (apt-get install python3-torch python3-onnx)");

        string tmp = dir + ".tmp" + Environment.ProcessId;
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        int rc = Run(python, [Path.Combine(tools, "export_encodec_onnx.py"), "--out", tmp, "--random-weights", "--seed", Seed.ToString(),
            "--reference-frames", string.Join(",", ReferenceFrames)], out string log);
        if (rc != 0) Assert.Fail($"export_encodec_onnx.py failed (exit {rc}):\n{log}");
        try { Directory.Move(tmp, dir); }
        catch (IOException) when (File.Exists(Path.Combine(dir, "export.json"))) { Directory.Delete(tmp, recursive: true); }  // another process won
        // Exports of older script versions are dead weight (~75 MB each).
        foreach (string old in Directory.GetDirectories(Path.GetDirectoryName(dir)!, $"seed{Seed}-*"))
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
