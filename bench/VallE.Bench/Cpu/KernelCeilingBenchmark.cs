using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using VallE.Runtime.Cpu;

namespace VallE.Bench.Cpu;

/// <summary>
/// One core, a 512 x 512 layer that stays in L2: what the kernels themselves sustain, with DRAM out of the picture.
/// Rows 1 gives the per-core weight-decode ceiling of each format (GB/s of weights a core can consume: a decode
/// step is memory-bound when cores x this exceeds the DRAM bandwidth); rows 64 gives the GEMM's GFLOP/s against
/// the core's FMA peak. The least load-sensitive numbers on a shared machine.
/// Run: <c>dotnet run -c Release --project bench/VallE.Bench -- --filter '*KernelCeilingBenchmark*'</c>.
/// </summary>
[Config(typeof(ManyShortIterationsConfig))]
public class KernelCeilingBenchmark : IWeightStreamingBenchmark
{
    private const int Size = 512;

    [Params(1, 4, 64)] public int Rows { get; set; }
    [Params(WeightsDType.F32, WeightsDType.BF16, WeightsDType.Int8)] public WeightsDType DType { get; set; }
    [Params(1)] public int Threads { get; set; }

    private CpuBackend _backend = null!;
    private LinearWeights _layer = null!;
    private float[] _x = [], _y = [];

    [GlobalSetup]
    public void Setup()
    {
        _backend = new CpuBackend(Threads);
        var random = new Random(42);
        _layer = LinearWeights.Create(LinearBenchmark.RandomFloats(random, Size * Size), LinearBenchmark.RandomFloats(random, Size), Size, Size, DType);
        _x = LinearBenchmark.RandomFloats(random, Rows * Size);
        _y = new float[Rows * Size];
    }

    [GlobalCleanup]
    public void Cleanup() => _backend.Dispose();

    [Benchmark]
    public void Forward() => _layer.Forward(_backend, _x, Rows, _y);

    public static long WeightBytes(BenchmarkCase c) =>
        LinearBenchmark.PackedBytes(Size, Size, (WeightsDType)BenchNumbers.Param(c, nameof(DType)));

    public static double Flops(BenchmarkCase c) => 2.0 * (int)BenchNumbers.Param(c, nameof(Rows)) * Size * Size;
}
