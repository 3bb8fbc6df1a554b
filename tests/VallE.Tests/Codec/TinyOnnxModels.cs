using VallE.Tests.Support;

namespace VallE.Tests.Codec;

/// <summary>
/// The tiny hand-built ONNX models of tiny_onnx_models.py (beside this file): a convolutional decoder and encoder
/// with a 5-frame receptive field (exact tests of chunk stitching), a decoder that emits NaN, and a slow model to
/// cancel. Made with /usr/bin/python3 and its `onnx` package on first use, cached under artifacts/tiny-onnx/ keyed
/// by a hash of the script; tests skip when python3-onnx is missing.
/// </summary>
internal static class TinyOnnxModels
{
    private static readonly Lock Gate = new();
    private static string? s_dir;
    private static string? s_failure;

    public static string ConvDecoder => Path.Combine(Require(), "conv_decoder.onnx");
    public static string ConvEncoder => Path.Combine(Require(), "conv_encoder.onnx");
    public static string NanDecoder => Path.Combine(Require(), "nan_decoder.onnx");
    public static string Slow => Path.Combine(Require(), "slow.onnx");

    private static string Require()
    {
        EncodecTestModels.RequireOnnxRuntime();
        lock (Gate)
        {
            if (s_dir is not null) return s_dir;
            if (s_failure is not null) Assert.Ignore(s_failure);
            try { return s_dir = Make(); }
            catch (IgnoreException e)
            {
                s_failure = e.Message;
                throw;
            }
        }
    }

    private static string Make()
    {
        string script = Path.Combine(TestPaths.RepoRoot, "tests", "VallE.Tests", "Codec", "tiny_onnx_models.py");
        string dir = Path.Combine(TestPaths.RepoRoot, "artifacts", "tiny-onnx", EncodecTestModels.Hash(File.ReadAllBytes(script)));
        if (File.Exists(Path.Combine(dir, "slow.onnx"))) return dir;

        const string python = "/usr/bin/python3";
        if (!File.Exists(python)) Assert.Ignore($"{python} not found: cannot make the tiny ONNX test models");
        if (EncodecTestModels.Run(python, ["-c", "import onnx, numpy"], out string probe) != 0)
            Assert.Ignore($"{python} has no onnx/numpy ({EncodecTestModels.LastLine(probe)}): cannot make the tiny ONNX test models (apt-get install python3-onnx)");
        string tmp = dir + ".tmp" + Environment.ProcessId;
        int rc = EncodecTestModels.Run(python, [script, "--out", tmp], out string log);
        if (rc != 0) Assert.Fail($"tiny_onnx_models.py failed (exit {rc}):\n{log}");
        try { Directory.Move(tmp, dir); }
        catch (IOException) when (File.Exists(Path.Combine(dir, "slow.onnx"))) { Directory.Delete(tmp, recursive: true); }  // another process won
        return dir;
    }
}
