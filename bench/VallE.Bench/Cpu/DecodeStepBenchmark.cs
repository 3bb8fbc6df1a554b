using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using VallE.Runtime.Cpu;

namespace VallE.Bench.Cpu;

/// <summary>
/// Every linear layer one AR decode step runs (per layer: qkv, out_proj, FF up, FF down; then the 1025-way
/// logits), for one utterance or a batch of 4, per weight format: the memory-bound part of a token. The
/// "% of probe" column is the distance to the floor (weight bytes / measured bandwidth); the target is >= 67%
/// (within 1.5x of the floor). Attention, norms and sampling are not included.
/// Run: <c>dotnet run -c Release --project bench/VallE.Bench -- --filter '*DecodeStepBenchmark*'</c>.
/// </summary>
[Config(typeof(ManyShortIterationsConfig))]
public class DecodeStepBenchmark : IWeightStreamingBenchmark
{
    [Params("512/8/6", "1024/16/12")] public string Model { get; set; } = "";
    [Params(1, 4)] public int Rows { get; set; }
    [Params(WeightsDType.F32, WeightsDType.BF16, WeightsDType.Int8)] public WeightsDType DType { get; set; }

    /// <summary>CpuBackend threads; 0 = all cores. One thread against the one-thread probe is the least noisy
    /// ratio on a shared machine.</summary>
    [Params(0, 1)] public int Threads { get; set; }

    private CpuBackend _backend = null!;
    private LinearWeights[] _layers = [];
    private float[] _x = [], _y = [];

    private static (int Dim, int Layers) Parse(string model)
    {
        var parts = model.Split('/');
        return (int.Parse(parts[0]), int.Parse(parts[2]));
    }

    private static IEnumerable<(int Out, int In)> Shapes(string model)
    {
        var (dim, layers) = Parse(model);
        for (int l = 0; l < layers; l++)
        {
            yield return (3 * dim, dim);
            yield return (dim, dim);
            yield return (4 * dim, dim);
            yield return (dim, 4 * dim);
        }
        yield return (1025, dim);
    }

    [GlobalSetup]
    public void Setup()
    {
        _backend = new CpuBackend(Threads);
        var random = new Random(42);
        var (dim, _) = Parse(Model);
        // Distinct weights per layer (as in a real model), so no layer is served from cache by its predecessor.
        _layers = Shapes(Model).Select(s =>
            LinearWeights.Create(LinearBenchmark.RandomFloats(random, s.Out * s.In), LinearBenchmark.RandomFloats(random, s.Out), s.Out, s.In, DType))
            .ToArray();
        _x = LinearBenchmark.RandomFloats(random, Rows * 4 * dim);
        _y = new float[Rows * 4 * dim];
    }

    [GlobalCleanup]
    public void Cleanup() => _backend.Dispose();

    [Benchmark]
    public void AllLinears()
    {
        foreach (var layer in _layers)
            layer.Forward(_backend, _x.AsSpan(0, Rows * layer.InFeatures), Rows, _y);
    }

    public static long WeightBytes(BenchmarkCase c) =>
        Shapes((string)BenchNumbers.Param(c, nameof(Model)))
            .Sum(s => LinearBenchmark.PackedBytes(s.Out, s.In, (WeightsDType)BenchNumbers.Param(c, nameof(DType))));

    public static double Flops(BenchmarkCase c) =>
        2.0 * (int)BenchNumbers.Param(c, nameof(Rows)) * Shapes((string)BenchNumbers.Param(c, nameof(Model))).Sum(s => (double)s.Out * s.In);
}
