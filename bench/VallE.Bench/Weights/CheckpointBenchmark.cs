using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using VallE.Weights;

namespace VallE.Bench.Weights;

/// <summary>
/// Loading and converting a 512-wide, 6-layer VALL-E (lifeiteng "small" preset, ~51 M parameters, ~200 MB):
/// opening a converted folder (mmap + header + layout validation; no weight bytes are read), and
/// <c>valle convert</c> of it to f32 (a plain copy: the baseline), f16 and bf16.
/// Run: <c>dotnet run -c Release --project bench/VallE.Bench -- --filter '*CheckpointBenchmark*'</c>.
/// </summary>
public class CheckpointBenchmark
{
    private string _dir = null!;
    private string _folder = null!;
    private ModelCheckpoint _source = null!;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "valle-bench-" + Guid.NewGuid().ToString("N"));
        _folder = Path.Combine(_dir, "small");
        var config = new ModelConfig
        {
            Family = ModelFamily.Valle, DModel = 512, NHead = 8, NumLayers = 6, NarDModel = 512, NarNHead = 8,
            NarNumLayers = 6, TextVocab = 512, PrefixMode = 1,
        };
        using (var memory = RandomCheckpoint(config)) CheckpointConverter.Convert(memory, _folder);
        _source = ModelCheckpoint.Open(_folder);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _source.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark]
    public long OpenFolder()
    {
        using var c = ModelCheckpoint.Open(_folder);
        return c.Tensors.Count;
    }

    [Benchmark(Baseline = true)]
    public long ConvertF32() => CheckpointConverter.Convert(_source, Path.Combine(_dir, "f32"), DType.Float32).Bytes;

    [Benchmark]
    public long ConvertF16() => CheckpointConverter.Convert(_source, Path.Combine(_dir, "f16"), DType.Float16).Bytes;

    [Benchmark]
    public long ConvertBF16() => CheckpointConverter.Convert(_source, Path.Combine(_dir, "bf16"), DType.BFloat16).Bytes;

    private static ModelCheckpoint RandomCheckpoint(ModelConfig config)
    {
        var rng = new Random(1);
        var tensors = new Dictionary<string, TensorData>();
        var ties = ModelLayout.Ties(config).ToDictionary(t => t.Alias, t => t.Target);
        foreach (var e in ModelLayout.Expected(config))
        {
            if (ties.ContainsKey(e.Name)) continue;
            long n = e.Shape.Aggregate(1L, (a, b) => a * b);
            var values = new float[n];
            for (long i = 0; i < n; i++) values[i] = (float)(rng.NextDouble() - 0.5);
            var storage = new ArrayTensorStorage(e.Name, DType.Float32, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
            tensors[e.Name] = new TensorData(e.Name, DType.Float32, e.Shape,
                VallE.Weights.Safetensors.SafetensorsFile.ContiguousStrides(e.Shape), 0, storage);
        }
        foreach (var (alias, target) in ties)
        {
            var t = tensors[target];
            tensors[alias] = new TensorData(alias, t.DType, t.Shape, t.Strides, t.Offset, t.Storage);
        }
        var ordered = ModelLayout.Expected(config).ToDictionary(e => e.Name, e => tensors[e.Name]);
        var sources = ConfigResolver.Names.ToDictionary(n => n, _ => ConfigSource.Checkpoint);
        return new ModelCheckpoint(config, sources, ordered, "random.pt", "torch", DType.Float32, [], null);
    }
}
