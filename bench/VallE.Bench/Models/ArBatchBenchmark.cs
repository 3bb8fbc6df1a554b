using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using VallE.Bench.Cpu;
using VallE.Runtime.Cpu;
using VallE.Runtime.Models;
using VallE.Runtime.Sampling;
using VallE.Weights;

namespace VallE.Bench.Models;

/// <summary>
/// The engine's AR phase (one prefill + 48 KV-cached decode steps per utterance) for a batch of 1, 4 or 8
/// independent utterances on a random-weight 512-wide, 6-layer model: how much batching saves per generated token
/// (each decode step reads every weight once for the whole batch). Divide the time by Batch × 48 for ms per token.
/// Run: <c>dotnet run -c Release --project bench/VallE.Bench -- --filter '*ArBatchBenchmark*'</c>.
/// </summary>
[Config(typeof(CpuBenchConfig))]
public class ArBatchBenchmark
{
    public const int Steps = 48;

    [Params(1, 4, 8)] public int Batch { get; set; }

    /// <summary>CpuBackend threads; 0 = all cores.</summary>
    [Params(0)] public int Threads { get; set; }

    private CpuComputeBackend _backend = null!;
    private ArDecoder _decoder = null!;
    private ArInput[] _inputs = [];

    [GlobalSetup]
    public void Setup()
    {
        var config = new ModelConfig
        {
            Family = ModelFamily.Valle, DModel = 512, NHead = 8, NumLayers = 6, NarDModel = 512, NarNHead = 8, NarNumLayers = 6,
            PrefixMode = 1, TextVocab = 512,
        };
        using var checkpoint = RandomCheckpoint(config, seed: 1);
        _backend = new CpuComputeBackend(new CpuBackend(Threads));
        var weights = ValleWeights.Load(checkpoint, WeightsDType.F32, _backend, _backend.Pool);
        _decoder = new ArDecoder(weights, _backend);
        var rng = new Random(2);
        _inputs = Enumerable.Range(0, 8).Select(i => new ArInput(
            Text: [1, .. Enumerable.Range(0, 18 + i).Select(_ => (long)rng.Next(3, 500)), 2],
            PromptFirstCodebook: Enumerable.Range(0, 30 + 3 * i).Select(_ => (long)rng.Next(0, 1024)).ToArray(),
            Languages: null,
            // Sampling (seeded) rather than greedy: random weights would otherwise repeat one token.
            Sampling: new SamplingOptions { TopK = 50, Seed = (ulong)(i + 1) },
            MaxFrames: Steps)).ToArray();
        Console.WriteLine($"// ArBatchBenchmark: batch {Batch} generates {Generate()} tokens per invocation");
    }

    [GlobalCleanup]
    public void Cleanup() => _backend.Dispose();

    [Benchmark]
    public int Generate() => _decoder.Run(_inputs[..Batch], observer: null).Tokens.Sum(t => t.Length);

    private static ModelCheckpoint RandomCheckpoint(ModelConfig config, int seed)
    {
        var rng = new Random(seed);
        var tensors = new Dictionary<string, TensorData>();
        foreach (var e in ModelLayout.Expected(config))
        {
            long n = e.Shape.Aggregate(1L, (a, b) => a * b);
            var strides = new long[e.Shape.Length];
            long stride = 1;
            for (int d = e.Shape.Length - 1; d >= 0; d--) { strides[d] = stride; stride *= e.Shape[d]; }
            if (e.IsInteger)
            {
                tensors[e.Name] = new TensorData(e.Name, DType.Int64, e.Shape, strides, 0, new ArrayTensorStorage(e.Name, DType.Int64, new byte[n * 8]));
                continue;
            }
            float scale = e.Shape.Length == 2 ? 1f / MathF.Sqrt(e.Shape[1]) : 0.1f;
            var values = new float[n];
            for (long i = 0; i < n; i++) values[i] = (float)(rng.NextDouble() * 2 - 1) * scale + (e.Name.EndsWith("running_var") ? 1.5f : 0f);
            tensors[e.Name] = new TensorData(e.Name, DType.Float32, e.Shape, strides, 0,
                new ArrayTensorStorage(e.Name, DType.Float32, MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));
        }
        return new ModelCheckpoint(config, new Dictionary<string, ConfigSource>(), tensors, "random", "memory", DType.Float32, [], null);
    }
}
