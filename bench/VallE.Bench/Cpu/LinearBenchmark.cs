using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using VallE.Runtime.Cpu;

namespace VallE.Bench.Cpu;

/// <summary>
/// One linear layer of the VALL-E transformer (d = 512 for the 512/8/6 model, 1024 for 1024/16/12) at decode
/// (1, 4, 16 rows: batch of utterances) and prefill/NAR (256 rows) sizes, per weight format.
/// Run: <c>dotnet run -c Release --project bench/VallE.Bench -- --filter '*LinearBenchmark*'</c>
/// (narrow with e.g. <c>--filter '*LinearBenchmark*' --anyCategories ...</c> or fewer params; see docs/cpu-backend.md).
/// </summary>
[Config(typeof(ManyShortIterationsConfig))]
public class LinearBenchmark : IWeightStreamingBenchmark
{
    public enum Layer { Qkv, OutProj, FfUp, FfDown, Logits }

    [Params(512, 1024)] public int Dim { get; set; }
    [Params(Layer.Qkv, Layer.OutProj, Layer.FfUp, Layer.FfDown, Layer.Logits)] public Layer Shape { get; set; }
    [Params(1, 4, 16, 256)] public int Rows { get; set; }
    [Params(WeightsDType.F32, WeightsDType.BF16, WeightsDType.Int8)] public WeightsDType DType { get; set; }

    private readonly CpuBackend _backend = new();   // all cores
    private LinearWeights _layer = null!;
    private float[] _x = null!, _y = null!;

    internal static (int Out, int In) Size(Layer layer, int dim) => layer switch
    {
        Layer.Qkv => (3 * dim, dim),
        Layer.OutProj => (dim, dim),
        Layer.FfUp => (4 * dim, dim),
        Layer.FfDown => (dim, 4 * dim),
        _ => (1025, dim),   // AR predict layer: 1024 codes + EOS
    };

    [GlobalSetup]
    public void Setup()
    {
        var (outF, inF) = Size(Shape, Dim);
        var random = new Random(42);
        _layer = LinearWeights.Create(RandomFloats(random, outF * inF), RandomFloats(random, outF), outF, inF, DType);
        _x = RandomFloats(random, Rows * inF);
        _y = new float[Rows * outF];
    }

    [GlobalCleanup]
    public void Cleanup() => _backend.Dispose();

    [Benchmark]
    public void Forward() => _layer.Forward(_backend, _x, Rows, _y);

    public static long WeightBytes(BenchmarkCase c)
    {
        var (outF, inF) = Size((Layer)BenchNumbers.Param(c, nameof(Shape)), (int)BenchNumbers.Param(c, nameof(Dim)));
        return PackedBytes(outF, inF, (WeightsDType)BenchNumbers.Param(c, nameof(DType)));
    }

    public static double Flops(BenchmarkCase c)
    {
        var (outF, inF) = Size((Layer)BenchNumbers.Param(c, nameof(Shape)), (int)BenchNumbers.Param(c, nameof(Dim)));
        return 2.0 * (int)BenchNumbers.Param(c, nameof(Rows)) * outF * inF;
    }

    /// <summary>The same count as <see cref="LinearWeights.WeightBytes"/> (panels of 32 outputs, int8 scales).</summary>
    internal static long PackedBytes(int outF, int inF, WeightsDType dtype)
    {
        long padded = (outF + 31) / 32 * 32L * inF;
        return dtype switch
        {
            WeightsDType.F32 => padded * 4,
            WeightsDType.BF16 => padded * 2,
            _ => padded + outF * 4L,
        };
    }

    internal static float[] RandomFloats(Random random, int length)
    {
        var a = new float[length];
        for (int i = 0; i < length; i++) a[i] = (float)(random.NextDouble() * 2 - 1);
        return a;
    }
}
