using VallE.Runtime.Cuda;

namespace VallE.Tests.Cuda;

/// <summary>
/// One GPU for the whole test run (creating a CUDA context per test would dominate the suite), plus host-side
/// helpers: seeded random data, fp16/bf16 rounding as the kernels store it, and tolerance checks.
/// </summary>
internal static class CudaTestSupport
{
    private static readonly Lazy<(CudaDevice? Device, string Reason)> Shared = new(() =>
    {
        var device = CudaDevice.TryCreate(out string reason);
        return (device, reason);
    });

    /// <summary>The GPU, or Assert.Ignore with the probe's reason (the op tests run only where a GPU is present).</summary>
    public static CudaDevice RequireDevice()
    {
        var (device, reason) = Shared.Value;
        if (device is null) Assert.Ignore($"no CUDA device: {reason}");
        return device!;
    }

    public static float[] Random(int count, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return values;
    }

    public static int[] RandomInts(int count, int seed, int max)
    {
        var rng = new Random(seed);
        var values = new int[count];
        for (int i = 0; i < count; i++) values[i] = rng.Next(max);
        return values;
    }

    /// <summary>Relative tolerance the issue asks for: fp32 1e-5, fp16/bf16 1e-2.</summary>
    public static float Tolerance(CudaDType dtype) => dtype == CudaDType.F32 ? 1e-5f : 1e-2f;

    /// <summary>|a - e| &lt;= tol * max(1, |e|) elementwise, failing with the first offending index.</summary>
    public static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, float tol, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), what + ": length");
        for (int i = 0; i < actual.Length; i++)
        {
            float e = expected[i], a = actual[i];
            if (float.IsNaN(e) && float.IsNaN(a)) continue;
            if (!(MathF.Abs(a - e) <= tol * MathF.Max(1f, MathF.Abs(e))))
                Assert.Fail($"{what}: element {i}: got {a}, expected {e} (tolerance {tol})");
        }
    }

    // ---- 16-bit storage as the kernels write it (round to nearest even) ----

    public static ushort ToBf16(float v)
    {
        uint bits = BitConverter.SingleToUInt32Bits(v);
        if (float.IsNaN(v)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    public static float FromBf16(ushort v) => BitConverter.UInt32BitsToSingle((uint)v << 16);

    public static ushort ToF16(float v) => BitConverter.HalfToUInt16Bits((Half)v);

    public static float FromF16(ushort v) => (float)BitConverter.UInt16BitsToHalf(v);

    /// <summary>Values as stored in <paramref name="dtype"/> and read back (the CPU reference sees the same inputs).</summary>
    public static float[] Quantize(float[] values, CudaDType dtype) => dtype switch
    {
        CudaDType.F16 => values.Select(v => FromF16(ToF16(v))).ToArray(),
        CudaDType.BF16 => values.Select(v => FromBf16(ToBf16(v))).ToArray(),
        _ => values,
    };

    /// <summary>A device buffer holding <paramref name="values"/> in <paramref name="dtype"/>.</summary>
    public static CudaBuffer UploadAs(CudaDevice device, float[] values, CudaDType dtype) => dtype switch
    {
        CudaDType.F16 => device.Upload<ushort>(values.Select(ToF16).ToArray()),
        CudaDType.BF16 => device.Upload<ushort>(values.Select(ToBf16).ToArray()),
        _ => device.Upload<float>(values),
    };

    /// <summary><paramref name="count"/> values of <paramref name="dtype"/> from the device, widened to float.</summary>
    public static float[] DownloadAs(CudaBuffer buffer, long count, CudaDType dtype) => dtype switch
    {
        CudaDType.F16 => buffer.Download<ushort>(count).Select(FromF16).ToArray(),
        CudaDType.BF16 => buffer.Download<ushort>(count).Select(FromBf16).ToArray(),
        _ => buffer.Download<float>(count),
    };

    public static int ElementBytes(CudaDType dtype) => dtype == CudaDType.F32 ? 4 : 2;

    /// <summary>Inverse frequencies of the sine positional encoding, in fp32 as torch computes them.</summary>
    public static float[] InverseFrequencies(int dim)
    {
        float coef = (float)(-(Math.Log(10000.0) / dim));
        var w = new float[(dim + 1) / 2];
        for (int i = 0; i < w.Length; i++) w[i] = MathF.Exp(2 * i * coef);
        return w;
    }

    public static float SinePe(int position, int column, float[] inverseFrequencies)
    {
        float angle = position * inverseFrequencies[column >> 1];
        return (column & 1) == 0 ? MathF.Sin(angle) : MathF.Cos(angle);
    }
}
