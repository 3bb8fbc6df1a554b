using System.Globalization;
using System.Text.Json;
using VallE.Runtime.Codec;
using VallE.Weights;
using VallE.Weights.NumPy;

namespace VallE.Benchmarking;

/// <summary>
/// Times one of our PyTorch references in bench/reference (<paramref name="script"/>: valle_reference.py or
/// ecker_reference.py, same command line and JSON): "upstream" is upstream's algorithm (the whole sequence recomputed
/// every AR step), "cached" the same model with a KV cache. Each returns its codes for comparison.
/// </summary>
internal sealed class TorchReferenceRunner(string python, string referenceDir, int threads, string script)
{
    public static bool IsAvailable(string python, CancellationToken cancel, out string why)
    {
        try
        {
            var (code, _, err) = PythonProcess.Run(python, ["-c", "import torch, numpy"], 1, cancel);
            why = code == 0 ? "" : $"{python} cannot import torch: {PythonProcess.LastLine(err)}";
            return code == 0;
        }
        catch (NativeDependencyException e)
        {
            why = e.Message;
            return false;
        }
    }

    /// <param name="extra">the script's own arguments (valle: the enrolled length and greedy top-k).</param>
    public (BenchMeasurement Timing, AudioCodes Codes) Run(string variant, string checkpoint, string inputs, int frames,
        IReadOnlyList<string> extra, CancellationToken cancel)
    {
        string codesPath = Path.Combine(inputs, $"torch-{variant}-codes.npy");
        string I(int v) => v.ToString(CultureInfo.InvariantCulture);
        var (code, stdout, stderr) = PythonProcess.Run(python,
        [
            Path.Combine(referenceDir, script), "--threads", I(threads), "run",
            "--checkpoint", checkpoint,
            "--text-tokens", Path.Combine(inputs, "text_tokens.npy"),
            "--prompt-codes", Path.Combine(inputs, "prompt_codes.npy"),
            "--frames", I(frames), "--variant", variant, "--out", codesPath, .. extra,
        ], threads, cancel);
        if (code != 0)
            throw new InvalidInputException($"PyTorch reference {script} ({variant}) failed: {PythonProcess.LastLine(stderr)}");
        string json = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        JsonElement r = JsonDocument.Parse(json).RootElement;
        double D(string name) => r.GetProperty(name).GetDouble();
        var timing = new BenchMeasurement($"PyTorch {variant}", r.GetProperty("frames").GetInt32(), D("ar_ms"),
            D("first_step_ms"), D("decode_ms_per_step"), D("nar_ms"), D("total_ms"));
        NpyArray array = Npy.Read(codesPath);
        return (timing, new AudioCodes(array.ToInt64(), checked((int)array.Shape[0]), checked((int)array.Shape[1])));
    }
}
