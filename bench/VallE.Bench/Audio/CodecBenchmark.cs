using BenchmarkDotNet.Attributes;
using VallE.Runtime.Codec;

namespace VallE.Bench.Audio;

/// <summary>
/// The "codec" share of synthesis time: EnCodec decode of 1 s and 5 s of codes and encode of a 3 s prompt,
/// through our ONNX Runtime binding. Needs an exported pair: set VALLE_ENCODEC_DIR, or run ./build.sh demo
/// first (artifacts/demo/encodec-UNTRAINED; random weights cost the same as real ones).
/// Run: <c>dotnet run -c Release --project bench/VallE.Bench -- --filter '*CodecBenchmark*'</c>.
/// </summary>
public class CodecBenchmark
{
    private EncodecEncoder _encoder = null!;
    private EncodecDecoder _decoder = null!;
    private AudioCodes _codes1s = null!, _codes5s = null!;
    private float[] _prompt3s = null!;

    [GlobalSetup]
    public void Setup()
    {
        string dir = Environment.GetEnvironmentVariable("VALLE_ENCODEC_DIR") ?? FindDemoCodec()
            ?? throw new InvalidOperationException("no EnCodec ONNX pair: run ./build.sh demo or set VALLE_ENCODEC_DIR");
        _encoder = EncodecEncoder.Open(Path.Combine(dir, "encodec_encoder.onnx"));
        _decoder = EncodecDecoder.Open(Path.Combine(dir, "encodec_decoder.onnx"));
        var rng = new Random(1);
        _codes1s = new AudioCodes(Enumerable.Range(0, 75 * 8).Select(_ => (long)rng.Next(1024)).ToArray(), 75);
        _codes5s = new AudioCodes(Enumerable.Range(0, 375 * 8).Select(_ => (long)rng.Next(1024)).ToArray(), 375);
        _prompt3s = Enumerable.Range(0, 72000).Select(i => (float)(0.3 * Math.Sin(i * 0.03))).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _encoder.Dispose();
        _decoder.Dispose();
    }

    [Benchmark(Baseline = true)]
    public float[] Decode1s() => _decoder.Decode(_codes1s);

    [Benchmark]
    public float[] Decode5s() => _decoder.Decode(_codes5s);

    [Benchmark]
    public AudioCodes EncodePrompt3s() => _encoder.Encode(_prompt3s);

    private static string? FindDemoCodec()
    {
        for (string? d = AppContext.BaseDirectory; d is not null; d = Path.GetDirectoryName(d))
        {
            string candidate = Path.Combine(d, "artifacts", "demo", "encodec-UNTRAINED");
            if (File.Exists(Path.Combine(candidate, "export.json"))) return candidate;
        }
        return null;
    }
}
