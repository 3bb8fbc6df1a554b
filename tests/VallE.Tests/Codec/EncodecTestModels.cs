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
    private static readonly ExportedTestModel Export = new("EnCodec models", "encodec-random", Seed,
        ["export_encodec_onnx.py", "encodec_arch.py"],
        ["--random-weights", "--seed", Seed.ToString(), "--reference-frames", string.Join(",", ReferenceFrames)]);

    public static string Encoder => Path.Combine(Require(), "encodec_encoder.onnx");
    public static string Decoder => Path.Combine(Require(), "encodec_decoder.onnx");
    public static string Reference(string name) => Path.Combine(Require(), "reference", name);

    /// <summary>
    /// Loads ONNX Runtime. It comes with the Microsoft.ML.OnnxRuntime package, so a failure here is a broken build,
    /// not a missing optional dependency: the test fails (it used to skip when build.sh had not fetched the library).
    /// </summary>
    public static void RequireOnnxRuntime() => OnnxRuntimeInfo.Load();

    /// <summary>The folder holding the exported pair; skips the test when it cannot be made here.</summary>
    public static string Require() => Export.Require();

    internal static int Run(string file, string[] args, out string output) => ExportedTestModel.Run(file, args, out output);
    internal static string LastLine(string s) => ExportedTestModel.LastLine(s);
    internal static string Hash(params byte[][] parts) => ExportedTestModel.Hash(parts);
}
