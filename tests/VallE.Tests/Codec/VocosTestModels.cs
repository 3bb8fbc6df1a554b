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
    private static readonly ExportedTestModel Export = new("Vocos model", "vocos-random", Seed,
        ["export_vocos_onnx.py", "vocos_arch.py"],
        ["--seed", Seed.ToString(), "--reference-frames", string.Join(",", ReferenceFrames)]);

    public static string Decoder => Path.Combine(Require(), "vocos_decoder.onnx");
    public static string Reference(string name) => Path.Combine(Require(), "reference", name);

    public static string Require() => Export.Require();
}
