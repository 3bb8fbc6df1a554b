using VallE.Runtime.Cuda;
using static VallE.Tests.Cuda.CudaTestSupport;

namespace VallE.Tests.Cuda;

/// <summary>Bias + activation, dtype conversion and the residual add against CPU references (GPU only).</summary>
[TestFixture]
public class CudaElementwiseTests
{
    [Test]
    public void BiasAct_MatchesCpu([Values] CudaDType dtype)
    {
        foreach (int rows in new[] { 1, 7, 33 })
            foreach (int cols in new[] { 1, 5, 1027 })
                foreach (bool relu in new[] { false, true })
                    BiasAct(dtype, rows, cols, relu);
    }

    private static void BiasAct(CudaDType dtype, int rows, int cols, bool relu)
    {
        var d = RequireDevice();
        float[] x = Quantize(Random(rows * cols, 1), dtype), bias = Quantize(Random(cols, 2), dtype);
        using var xb = UploadAs(d, x, dtype);
        using var bb = UploadAs(d, bias, dtype);
        using var yb = d.Allocate((long)rows * cols * ElementBytes(dtype));
        CudaKernels.BiasAct(d, dtype, xb.Pointer, bb.Pointer, yb.Pointer, rows, cols, relu);
        var expected = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i] + bias[i % cols];
            expected[i] = relu ? MathF.Max(v, 0f) : v;
        }
        AssertClose(DownloadAs(yb, x.Length, dtype), Quantize(expected, dtype), Tolerance(dtype), $"bias_act {rows}x{cols} relu={relu}");
    }

    [Test]
    public void BiasAct_InPlaceWithoutBias()
    {
        var d = RequireDevice();
        float[] x = Random(3 * 10, 3);
        using var xb = d.Upload<float>(x);
        CudaKernels.BiasAct(d, CudaDType.F32, xb.Pointer, 0, xb.Pointer, 3, 10, relu: true);
        AssertClose(xb.Download<float>(x.Length), x.Select(v => MathF.Max(v, 0f)).ToArray(), 0f, "relu in place");
    }

    [Test]
    public void Convert_RoundsToNearestEven([Values(CudaDType.F16, CudaDType.BF16)] CudaDType dtype)
    {
        foreach (int count in new[] { 1, 1000, 70001 }) Convert(dtype, count);
    }

    private static void Convert(CudaDType dtype, int count)
    {
        var d = RequireDevice();
        float[] x = Random(count, 4, scale: 100f);
        using var xb = d.Upload<float>(x);
        using var hb = d.Allocate((long)count * 2);
        using var back = d.Allocate<float>(count);
        CudaKernels.Convert(d, CudaDType.F32, xb.Pointer, dtype, hb.Pointer, count);
        CudaKernels.Convert(d, dtype, hb.Pointer, CudaDType.F32, back.Pointer, count);
        AssertClose(back.Download<float>(count), Quantize(x, dtype), 0f, "f32 -> 16-bit -> f32");
    }

    [Test]
    public void AddResidual_MatchesCpu()
    {
        foreach (int rows in new[] { 1, 9 })
            foreach (int dim in new[] { 3, 1024 })
                foreach (bool withBias in new[] { false, true })
                    AddResidual(rows, dim, withBias);
    }

    private static void AddResidual(int rows, int dim, bool withBias)
    {
        var d = RequireDevice();
        float[] x = Random(rows * dim, 5), delta = Random(rows * dim, 6), bias = Random(dim, 7);
        using var xb = d.Upload<float>(x);
        using var db = d.Upload<float>(delta);
        using var bb = d.Upload<float>(bias);
        CudaKernels.AddResidual(d, xb.Pointer, db.Pointer, withBias ? bb.Pointer : 0, rows, dim);
        var expected = x.Select((v, i) => v + (delta[i] + (withBias ? bias[i % dim] : 0f))).ToArray();
        AssertClose(xb.Download<float>(x.Length), expected, 1e-6f, "add_residual");
    }

    [Test]
    public void InvalidArguments_AreReportedNotLaunched()
    {
        var d = RequireDevice();
        var e = Assert.Throws<CudaException>(() => CudaKernels.BiasAct(d, (CudaDType)7, 0, 0, 0, 1, 1, false))!;
        Assert.That(e.Message, Does.Contain("valle_bias_act"));
        Assert.Throws<CudaException>(() => CudaKernels.AttentionPrefill(d, CudaDType.F32, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0,
            1, 1, 1, 1, headDim: 256, 0, 0, true, 1f));
    }
}
