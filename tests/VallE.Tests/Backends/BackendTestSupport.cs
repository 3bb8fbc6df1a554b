using VallE.Runtime.Backends;
using VallE.Runtime.Cpu;
using VallE.Runtime.Cuda;
using VallE.Tests.Cuda;

namespace VallE.Tests.Backends;

/// <summary>
/// The backends the op table runs on, by name: <c>cpu</c> always; <c>cuda</c> where a GPU is present and the CUDA
/// kernels library loads (the probe's reason otherwise).
/// </summary>
internal static class TestBackends
{
    public static readonly string[] Names = ["cpu", "cuda"];

    /// <param name="cpuThreads">worker threads of the CPU backend's pool (the caller included).</param>
    public static IComputeBackend Create(string name, int cpuThreads = 2) => name switch
    {
        "cpu" => Cpu(cpuThreads),
        "cuda" => Cuda(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown backend"),
    };

    public static IComputeBackend Cpu(int threads) => new CpuComputeBackend(new CpuBackend(threads), ownsPool: true);

    /// <summary>The CUDA backend on the shared test device, or Assert.Ignore saying why there is none.</summary>
    public static IComputeBackend Cuda()
    {
        CudaDevice device;
        try
        {
            device = CudaTestSupport.RequireDevice();
        }
        catch (IgnoreException e)
        {
            Assert.Ignore("CUDA rows: skipped: " + e.Message);
            return null!;
        }
        // The device is shared by the whole run: the backend does not own it.
        return new CudaComputeBackend(device, ownsDevice: false);
    }

    /// <summary>Asserts the backend runs <paramref name="requirement"/>: the CPU (the reference) must; others may say no.</summary>
    public static void Require(IComputeBackend backend, OpRequirement requirement)
    {
        if (backend.Supports(requirement, out string reason)) return;
        if (backend.Name == "cpu") Assert.Fail($"the CPU backend must support {requirement}: {reason}");
        Assert.Ignore($"{backend.Name} does not support {requirement}: {reason}");
    }
}

/// <summary>
/// A tensor with a view of <c>rows</c> rows in the middle of <c>before</c> + <c>after</c> padding rows. Padding is NaN
/// (floats) or <see cref="IntPad"/> (ints): an op that reads it poisons its result, one that writes it is caught by
/// <see cref="AssertPaddingIntact"/>.
/// </summary>
internal sealed class Buf : IDisposable
{
    public const int IntPad = -77777;

    private readonly IComputeBackend _backend;
    private readonly int _before, _after;

    private Buf(IComputeBackend backend, TensorType type, int rows, int cols, int before, int after)
    {
        _backend = backend;
        _before = before;
        _after = after;
        Tensor = backend.Allocate(type, before + rows + after, cols);
        View = Tensor.Slice(before, rows);
    }

    public Tensor Tensor { get; }
    public TensorRows View { get; }
    public int Rows => View.Count;
    public int Cols => View.Cols;

    /// <summary>A float32 tensor; the view holds <paramref name="values"/> (NaN where null: an output).</summary>
    public static Buf F32(IComputeBackend backend, int rows, int cols, float[]? values = null, int before = 0, int after = 0)
    {
        var buf = new Buf(backend, TensorType.F32, rows, cols, before, after);
        var all = new float[buf.Tensor.Elements];
        Array.Fill(all, float.NaN);
        values?.CopyTo(all, (long)before * cols);
        backend.Write(buf.Tensor.All, all);
        return buf;
    }

    public static Buf I32(IComputeBackend backend, int rows, int cols, int[]? values = null, int before = 0, int after = 0)
    {
        var buf = new Buf(backend, TensorType.I32, rows, cols, before, after);
        var all = new int[buf.Tensor.Elements];
        Array.Fill(all, IntPad);
        values?.CopyTo(all, (long)before * cols);
        backend.Write(buf.Tensor.All, all);
        return buf;
    }

    public float[] Read()
    {
        var values = new float[View.Elements];
        _backend.Read(View, values);
        return values;
    }

    public int[] ReadInts()
    {
        var values = new int[View.Elements];
        _backend.Read(View, values);
        return values;
    }

    /// <summary>Fails when an op wrote a padding row (outside the view it was given).</summary>
    public void AssertPaddingIntact(string what)
    {
        if (_before == 0 && _after == 0) return;
        int cols = Tensor.Cols;
        long viewStart = (long)_before * cols, viewEnd = viewStart + View.Elements;
        if (Tensor.Type == TensorType.F32)
        {
            var all = new float[Tensor.Elements];
            _backend.Read(Tensor.All, all);
            for (long i = 0; i < all.Length; i++)
                if ((i < viewStart || i >= viewEnd) && !float.IsNaN(all[i]))
                    Assert.Fail($"{what}: wrote {all[i]} outside its view, at row {i / cols} of {Tensor} (view {View})");
        }
        else
        {
            var all = new int[Tensor.Elements];
            _backend.Read(Tensor.All, all);
            for (long i = 0; i < all.Length; i++)
                if ((i < viewStart || i >= viewEnd) && all[i] != IntPad)
                    Assert.Fail($"{what}: wrote {all[i]} outside its view, at row {i / cols} of {Tensor} (view {View})");
        }
    }

    public void Dispose() => Tensor.Dispose();
}

internal static class TestData
{
    /// <summary>Uniform in <c>offset ± scale</c>, seeded.</summary>
    public static float[] Uniform(int count, int seed, float scale = 1f, float offset = 0f)
    {
        var rng = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = offset + (float)(rng.NextDouble() * 2 - 1) * scale;
        return values;
    }

    public static int[] Ints(int count, int seed, int max)
    {
        var rng = new Random(seed);
        var values = new int[count];
        for (int i = 0; i < count; i++) values[i] = rng.Next(max);
        return values;
    }

    public static double[] Widen(ReadOnlySpan<float> values)
    {
        var wide = new double[values.Length];
        for (int i = 0; i < values.Length; i++) wide[i] = values[i];
        return wide;
    }

    /// <summary>NMSE of <paramref name="actual"/> against <paramref name="expected"/> at most <paramref name="threshold"/>.</summary>
    public static void AssertNmse(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double threshold, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), what + ": length");
        double nmse = Float64Reference.Nmse(actual, expected);
        if (nmse <= threshold) return;
        int worst = 0;
        double worstErr = -1;
        for (int i = 0; i < actual.Length; i++)
        {
            double e = Math.Abs(actual[i] - expected[i]);
            if (double.IsNaN(e)) { worst = i; break; }
            if (e > worstErr) { worstErr = e; worst = i; }
        }
        Assert.Fail($"{what}: NMSE {nmse:E3} > {threshold:E0}; worst element {worst}: got {actual[worst]}, expected {expected[worst]}");
    }

    /// <summary>Bit-for-bit equality (ops whose float32 result the interface fixes: sums in a stated order, copies).</summary>
    public static void AssertExact(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), what + ": length");
        for (int i = 0; i < actual.Length; i++)
            if (BitConverter.SingleToInt32Bits(actual[i]) != BitConverter.SingleToInt32Bits(expected[i]))
                Assert.Fail($"{what}: element {i}: got {actual[i]:R}, expected exactly {expected[i]:R}");
    }

    public static void AssertExact(ReadOnlySpan<int> actual, ReadOnlySpan<int> expected, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), what + ": length");
        for (int i = 0; i < actual.Length; i++)
            if (actual[i] != expected[i])
                Assert.Fail($"{what}: element {i}: got {actual[i]}, expected {expected[i]} (all: [{string.Join(", ", actual.ToArray())}] vs [{string.Join(", ", expected.ToArray())}])");
    }
}
