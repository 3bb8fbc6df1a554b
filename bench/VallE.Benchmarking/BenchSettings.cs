using VallE.Runtime.Cpu;
using VallE.Runtime.Models;
using VallE.Weights;

namespace VallE.Benchmarking;

/// <summary>Which PyTorch references a bench run times next to the engine.</summary>
public enum TorchReferences
{
    /// <summary>Both when python can import torch, none (with a note) when it cannot.</summary>
    Auto,
    None,
    /// <summary>The same model as upstream's with a KV cache.</summary>
    Cached,
    /// <summary>Upstream's algorithm: the whole sequence recomputed every AR step.</summary>
    Upstream,
    Both,
}

/// <summary>
/// One bench run: which checkpoint (a generated random-weight preset or a given file), the request shape, the
/// engine's threads and weight storage, which references to run and how to print the result. The values are
/// expected to be validated by the caller (`valle bench` turns bad ones into usage errors);
/// <see cref="BenchRun.Execute"/> only guards against nonsense.
/// </summary>
public sealed record BenchSettings
{
    /// <summary>The generated random-weight models: tiny (64 wide, 2 layers), small (512/8 heads/6), full (1024/16/12);
    /// ecker-small (256/4/4) and ecker (1024/16/12), e-c-k-e-r/vall-e ar+nar .sft files.</summary>
    public static IReadOnlyList<string> Presets { get; } = BenchSetup.Presets;

    /// <summary>Debian's interpreter carries torch; the PATH one may be a shim without it.</summary>
    public static string DefaultPython => BenchSetup.DefaultPython;

    /// <summary>$VALLE_BENCH_CACHE, else a folder under the system temp directory.</summary>
    public static string DefaultCacheDir => BenchSetup.DefaultCacheDir;

    /// <summary>Generated frames when none are given: 150 (2 s), 50 for the full preset, 40 for ecker (upstream's
    /// loop re-runs the whole sequence every step), 75 for ecker-small.</summary>
    public static int DefaultFrames(string preset) => preset switch
    {
        "full" => 50,
        "ecker" => 40,
        "ecker-small" => 75,
        _ => 150,
    };

    /// <summary>One of <see cref="Presets"/>; ignored (reported as "checkpoint") when <see cref="Checkpoint"/> is set.</summary>
    public string Preset { get; init; } = "small";
    /// <summary>Benchmark this checkpoint instead of a generated preset.</summary>
    public string? Checkpoint { get; init; }
    /// <summary>
    /// Ecker presets: "ar-nar" (the KV-cached AR, then the NAR levels) or "nar-len" (an ar+nar-len model: the len
    /// task, <see cref="EckerBench.DemaskSteps"/> demasking steps at <see cref="Frames"/> frames, then the NAR levels).
    /// </summary>
    public string Mode { get; init; } = "ar-nar";
    /// <summary>How to open <see cref="Checkpoint"/> (or the preset's file) and load it with the given options; null:
    /// <see cref="ModelCheckpoint.Open"/> without overrides, then <see cref="ValleModel.Load"/>.</summary>
    public Func<string, EngineOptions, ValleModel>? LoadModel { get; init; }
    /// <summary>Generated AR frames, identical for every implementation (at least 2, at most 16 per text token).</summary>
    public required int Frames { get; init; }
    /// <summary>Text tokens, &lt;bos&gt; and &lt;eos&gt; included (at least 3).</summary>
    public int TextTokens { get; init; } = 60;
    /// <summary>Prompt frames (225 = 3 s).</summary>
    public int PromptFrames { get; init; } = 225;
    /// <summary>Threads for the engine and for torch.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
    /// <summary>The engine's weight storage (the references are always f32).</summary>
    public WeightsDType WeightsDType { get; init; } = WeightsDType.F32;
    public TorchReferences Torch { get; init; } = TorchReferences.Auto;
    /// <summary>Python with torch and numpy.</summary>
    public string Python { get; init; } = DefaultPython;
    /// <summary>Where generated preset checkpoints are kept between runs.</summary>
    public string CacheDir { get; init; } = DefaultCacheDir;
    /// <summary>Seed of the random inputs.</summary>
    public ulong Seed { get; init; }
    /// <summary>Memory bandwidth for the decode floor in GB/s; null: measured with a 512 MiB read.</summary>
    public double? BandwidthGBps { get; init; }
    /// <summary>Print one JSON object instead of the table.</summary>
    public bool Json { get; init; }
    /// <summary>Draw the table with box characters (a person is watching); else plain aligned columns.</summary>
    public bool RichTable { get; init; }
}

/// <summary>Where a bench run reports its progress (one line per phase) and its warnings.</summary>
public interface IBenchLog
{
    void Info(string message);
    void Warn(string message);
}
