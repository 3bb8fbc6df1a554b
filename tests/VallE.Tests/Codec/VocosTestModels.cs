using VallE.Tests.Support;

namespace VallE.Tests.Codec;

/// <summary>
/// The random-weight Vocos decoder (our vocos-encodec-24khz architecture, tools/vocos_arch.py) and PyTorch's outputs
/// for it, made by tools/export_vocos_onnx.py with /usr/bin/python3 the first time a test needs them and cached under
/// artifacts/vocos-random/ (keyed by a hash of the export scripts). Tests skip with a message when Python lacks
/// torch/onnx (build.sh installs python3-torch and python3-onnx).
/// </summary>
internal static class VocosTestModels
{
    public const int Seed = 0;
    public static readonly int[] ReferenceFrames = [1, 2, 7, 75, 300];
    private static readonly Lock Gate = new();
    private static string? s_dir;
    private static string? s_failure;

    public static string Decoder => Path.Combine(Require(), "vocos_decoder.onnx");
    public static string Reference(string name) => Path.Combine(Require(), "reference", name);

    public static string Require()
    {
        EncodecTestModels.RequireOnnxRuntime();
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
        string key = EncodecTestModels.Hash(File.ReadAllBytes(Path.Combine(tools, "export_vocos_onnx.py")), File.ReadAllBytes(Path.Combine(tools, "vocos_arch.py")));
        string dir = Path.Combine(TestPaths.RepoRoot, "artifacts", "vocos-random", $"seed{Seed}-{key}");
        if (File.Exists(Path.Combine(dir, "export.json"))) return dir;

        const string python = "/usr/bin/python3";
        if (!File.Exists(python)) Assert.Ignore($"{python} not found: cannot export the test Vocos model");
        if (EncodecTestModels.Run(python, ["-c", "import torch, onnx"], out string probe) != 0)
            Assert.Ignore($"{python} has no torch/onnx ({EncodecTestModels.LastLine(probe)}): cannot export the test Vocos model (apt-get install python3-torch python3-onnx)");

        string tmp = dir + ".tmp" + Environment.ProcessId;
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        int rc = EncodecTestModels.Run(python, [Path.Combine(tools, "export_vocos_onnx.py"), "--out", tmp, "--seed", Seed.ToString(),
            "--reference-frames", string.Join(",", ReferenceFrames)], out string log);
        if (rc != 0) Assert.Fail($"export_vocos_onnx.py failed (exit {rc}):\n{log}");
        try { Directory.Move(tmp, dir); }
        catch (IOException) when (File.Exists(Path.Combine(dir, "export.json"))) { Directory.Delete(tmp, recursive: true); }  // another process won
        foreach (string old in Directory.GetDirectories(Path.GetDirectoryName(dir)!, $"seed{Seed}-*"))
        {
            if (old == dir || old.Contains(".tmp", StringComparison.Ordinal)) continue;
            try { Directory.Delete(old, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        return dir;
    }
}
