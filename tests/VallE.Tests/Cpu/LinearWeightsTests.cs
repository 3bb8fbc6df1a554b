using VallE.Tests.Support;
using VallE.Runtime.Cpu;

namespace VallE.Tests.Cpu;

/// <summary>
/// Packed linear kernels against a float64 reference (in the spirit of llama.cpp's test-backend-ops): odd sizes,
/// one row, K not a multiple of any vector width, ragged last panels, rows past a block; every instruction set
/// this CPU has (AVX-512, AVX2, scalar) and 1-3 threads. bf16/int8 are compared with the float64 product of their
/// dequantised weights (1e-5), and with the original weights to the bound their rounding allows.
/// </summary>
public class LinearWeightsTests
{
    private const double Tolerance = 1e-5;
    private static readonly CpuBackend Serial = new(1);

    private static IEnumerable<KernelIsa> AvailableIsas() =>
        Enum.GetValues<KernelIsa>().Where(isa => isa <= CpuKernels.Best);

    // rows, in, out: decode (1..17 rows) and long inputs (300+), odd and vector-unfriendly K, out 1..4100;
    // 300 and 301 rows run several 64-row blocks, the last one ragged; 40 x 4100 is a wide input past one block of L2.
    private static readonly (int Rows, int In, int Out)[] Shapes =
    [
        (1, 1, 1), (2, 3, 5), (1, 7, 33), (3, 17, 31), (4, 256, 32), (5, 1025, 65), (16, 512, 96),
        (17, 100, 130), (1, 1100, 4100), (2, 255, 1025), (7, 33, 4099), (65, 300, 70), (300, 257, 97), (301, 64, 33), (40, 4100, 33),
    ];

    [TestCase(WeightsDType.F32)]
    [TestCase(WeightsDType.BF16)]
    [TestCase(WeightsDType.Int8)]
    public void MatchesFloat64ReferenceOnEveryPath(WeightsDType dtype)
    {
        TestContext.Out.WriteLine($"instruction sets tested: {string.Join(", ", AvailableIsas())}");
        var random = new Random(1234 + (int)dtype);
        foreach (var (rows, inF, outF) in Shapes)
        {
            var w = RandomArray(random, outF * inF);
            var b = random.Next(3) == 0 ? [] : RandomArray(random, outF);
            var x = RandomArray(random, rows * inF);
            var layer = LinearWeights.Create(w, b, outF, inF, dtype);
            var kernelWeights = Dequantized(layer);
            var (expected, magnitude) = Reference(x, kernelWeights, b, rows, inF, outF);
            var original = Reference(x, w, b, rows, inF, outF).Y;

            foreach (var isa in AvailableIsas())
            {
                foreach (int threads in new[] { 1, 2, 3 })
                {
                    using var backend = new CpuBackend(threads, isa);
                    var y = new float[rows * outF + 3];
                    y.AsSpan().Fill(float.NaN);
                    layer.Forward(backend, x, rows, y.AsSpan(0, rows * outF));
                    string where = $"{dtype} {rows}x{inF}->{outF} {isa} threads={threads}";
                    AssertClose(y, expected, magnitude, Tolerance, where);
                    Assert.That(y[rows * outF], Is.NaN, $"{where}: wrote past the output");
                }
            }

            // Sanity against the unquantised layer: the dequantised weights are within their rounding of the originals.
            if (dtype != WeightsDType.F32)
                AssertQuantisationBound(w, x, original, expected, rows, inF, outF, dtype);
        }
    }

    [Test]
    public void DequantisedWeightsAreTheOriginalsRounded()
    {
        var random = new Random(7);
        var w = RandomArray(random, 40 * 70);
        w[3] = 0; w[100] = 1e-30f;
        Assert.That(Dequantized(LinearWeights.Create(w, [], 40, 70)), Is.EqualTo(w));
        var bf16 = Dequantized(LinearWeights.Create(w, [], 40, 70, WeightsDType.BF16));
        for (int i = 0; i < w.Length; i++)
            Assert.That(bf16[i], Is.EqualTo(PackedPanels.FromBFloat16(PackedPanels.ToBFloat16(w[i]))));
        var int8 = Dequantized(LinearWeights.Create(w, [], 40, 70, WeightsDType.Int8));
        for (int o = 0; o < 40; o++)
        {
            float maxAbs = w.AsSpan(o * 70, 70).ToArray().Max(MathF.Abs);
            for (int k = 0; k < 70; k++)
                Assert.That(int8[o * 70 + k], Is.EqualTo(w[o * 70 + k]).Within(maxAbs / 127 * 0.5001));
        }
    }

    [TestCase(1.0f, (ushort)0x3F80)]
    [TestCase(-2.5f, (ushort)0xC020)]
    [TestCase(1.00390625f, (ushort)0x3F80)]   // exactly halfway between 0x3F80 and 0x3F81: ties to even
    [TestCase(1.01171875f, (ushort)0x3F82)]   // halfway between 0x3F81 and 0x3F82: ties to even
    [TestCase(float.PositiveInfinity, (ushort)0x7F80)]
    public void BFloat16RoundsToNearestEven(float value, ushort expected) =>
        Assert.That(PackedPanels.ToBFloat16(value), Is.EqualTo(expected));

    [Test]
    public void WeightBytesCountThePackedPanels()
    {
        var w = new float[33 * 10];
        Assert.That(LinearWeights.Create(w, [], 33, 10).WeightBytes, Is.EqualTo(64 * 10 * 4));
        Assert.That(LinearWeights.Create(w, [], 33, 10, WeightsDType.BF16).WeightBytes, Is.EqualTo(64 * 10 * 2));
        Assert.That(LinearWeights.Create(w, [], 33, 10, WeightsDType.Int8).WeightBytes, Is.EqualTo(64 * 10 + 33 * 4));
    }

    [Test]
    public void ZeroRowsAndZeroInputsAreHandled()
    {
        var layer = LinearWeights.Create([], [1f, 2f, 3f], 3, 0);
        var y = new float[6];
        layer.Forward(Serial, [], 2, y);
        Assert.That(y, Is.EqualTo(new[] { 1f, 2f, 3f, 1f, 2f, 3f }));
        LinearWeights.Create(new float[6], [], 3, 2).Forward(Serial, [], 0, Span<float>.Empty);
    }

    [Test]
    public void ShortBuffersAreRejected()
    {
        var layer = LinearWeights.Create(new float[6], [], 3, 2);
        Assert.Throws<ArgumentException>(() => layer.Forward(Serial, new float[3], 2, new float[6]));
        Assert.Throws<ArgumentException>(() => layer.Forward(Serial, new float[4], 2, new float[5]));
        Assert.Throws<ArgumentException>(() => LinearWeights.Create(new float[5], [], 3, 2));
        Assert.Throws<ArgumentException>(() => LinearWeights.Create(new float[6], [1f], 3, 2));
        var both = new float[12];
        Assert.Throws<ArgumentException>(() => layer.Forward(Serial, both.AsSpan(0, 4), 2, both.AsSpan(2, 6)), "in place");
    }

    [Test]
    public void Int8RejectsNonFiniteWeights() =>
        Assert.Throws<ArgumentException>(() => LinearWeights.Create([1f, float.NaN], [], 1, 2, WeightsDType.Int8));

    [TestCase(WeightsDType.F32)]
    [TestCase(WeightsDType.BF16)]
    [TestCase(WeightsDType.Int8)]
    public void ForwardAllocatesNothing(WeightsDType dtype)
    {
        using var backend = new CpuBackend(3);
        var random = new Random(3);
        var layer = LinearWeights.Create(RandomArray(random, 1024 * 512), RandomArray(random, 1024), 1024, 512, dtype);
        var x = RandomArray(random, 4 * 512);
        var y = new float[4 * 1024];
        for (int i = 0; i < 20; i++) layer.Forward(backend, x, 4, y);
        Assert.That(Allocations.SteadyState(_ => layer.Forward(backend, x, 4, y), calls: 200), Is.Zero);
    }

    internal static float[] RandomArray(Random random, int length)
    {
        var a = new float[length];
        for (int i = 0; i < length; i++) a[i] = (float)(random.NextDouble() * 2 - 1);
        return a;
    }

    private static float[] Dequantized(LinearWeights layer) => layer switch
    {
        PackedLinear<F32Panel> f => f.Dequantized(),
        PackedLinear<BF16Panel> h => h.Dequantized(),
        PackedLinear<Int8Panel> q => q.Dequantized(),
        _ => throw new InvalidOperationException(layer.GetType().Name),
    };

    /// <summary>y = x·Wᵀ + b in float64, and Σ|x·w| + |b| per output: the scale a float32 sum's rounding is relative to.</summary>
    private static (double[] Y, double[] Magnitude) Reference(float[] x, float[] w, float[] b, int rows, int inF, int outF)
    {
        var y = new double[rows * outF];
        var magnitude = new double[rows * outF];
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < outF; o++)
            {
                double sum = b.Length > 0 ? b[o] : 0, abs = b.Length > 0 ? Math.Abs(b[o]) : 0;
                for (int k = 0; k < inF; k++)
                {
                    double p = (double)x[r * inF + k] * w[o * inF + k];
                    sum += p;
                    abs += Math.Abs(p);
                }
                y[r * outF + o] = sum;
                magnitude[r * outF + o] = abs;
            }
        }
        return (y, magnitude);
    }

    private static void AssertClose(float[] actual, double[] expected, double[] magnitude, double tolerance, string where)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            if (!(error <= tolerance * magnitude[i] + 1e-30))
                Assert.Fail($"{where}: y[{i}] = {actual[i]}, expected {expected[i]} (error {error:g3}, allowed {tolerance * magnitude[i]:g3})");
        }
    }

    /// <summary>bf16 moves each weight by at most 2⁻⁹ of itself; int8 by at most half a step (max|w_row| / 254).</summary>
    private static void AssertQuantisationBound(float[] w, float[] x, double[] original, double[] quantised,
        int rows, int inF, int outF, WeightsDType dtype)
    {
        for (int o = 0; o < outF; o++)
        {
            double rowMax = 0;
            for (int k = 0; k < inF; k++) rowMax = Math.Max(rowMax, Math.Abs(w[o * inF + k]));
            for (int r = 0; r < rows; r++)
            {
                double bound = 0;
                for (int k = 0; k < inF; k++)
                {
                    double step = dtype == WeightsDType.BF16 ? Math.Abs(w[o * inF + k]) / 512 : rowMax / 254;
                    bound += Math.Abs(x[r * inF + k]) * step * 1.0001;
                }
                double diff = Math.Abs(original[r * outF + o] - quantised[r * outF + o]);
                Assert.That(diff, Is.LessThanOrEqualTo(bound + 1e-12), $"{dtype} output {o} row {r} strays beyond its rounding");
            }
        }
    }
}
