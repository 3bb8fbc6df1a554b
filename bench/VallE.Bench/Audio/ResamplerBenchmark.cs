using BenchmarkDotNet.Attributes;
using VallE.Runtime.Audio;

namespace VallE.Bench.Audio;

/// <summary>
/// Preparing a prompt: resampling 10 s of audio to 24 kHz from common rates, against a plain copy of the same
/// samples (the floor: what the prompt path costs without resampling).
/// Run: <c>dotnet run -c Release --project bench/VallE.Bench -- --filter '*ResamplerBenchmark*'</c>.
/// </summary>
[MemoryDiagnoser]
public class ResamplerBenchmark
{
    [Params(16000, 44100, 48000)]
    public int InputRate { get; set; }

    private float[] _input = null!;
    private Resampler _resampler = null!;

    [GlobalSetup]
    public void Setup()
    {
        _input = new float[10 * InputRate];
        var rng = new Random(1);
        for (int i = 0; i < _input.Length; i++) _input[i] = (float)(0.3 * Math.Sin(i * 0.05) + 0.05 * (rng.NextDouble() - 0.5));
        _resampler = new Resampler(InputRate, 24000);
    }

    [Benchmark(Baseline = true)]
    public float[] Copy() => (float[])_input.Clone();

    [Benchmark]
    public float[] ResampleTo24k() => _resampler.Process(_input);

    /// <summary>Includes designing the filter table (what PromptAudio.LoadMono pays per call).</summary>
    [Benchmark]
    public float[] DesignAndResample() => Resampler.Resample(_input, InputRate, 24000);
}
