using VallE.Runtime.Cuda;
using static VallE.Tests.Cuda.CudaTestSupport;

namespace VallE.Tests.Cuda;

/// <summary>cuBLAS linear layers, CUDA graph replay with device-side counters, and the device memory check (GPU only).</summary>
[TestFixture]
public class CudaBlasGraphTests
{
    [Test]
    public void LinearF32_MatchesCpu()
    {
        foreach (int rows in new[] { 1, 7, 300 })
            foreach (int inFeatures in new[] { 64, 1024 })
                LinearF32(rows, inFeatures, 1025);
    }

    private static void LinearF32(int rows, int inFeatures, int outFeatures)
    {
        var d = RequireDevice();
        float[] x = Random(rows * inFeatures, 100), w = Random(outFeatures * inFeatures, 101);
        using var xb = d.Upload<float>(x);
        using var wb = d.Upload<float>(w);
        using var yb = d.Allocate<float>((long)rows * outFeatures);
        CudaBlas.LinearF32(d, xb.Pointer, wb.Pointer, yb.Pointer, rows, inFeatures, outFeatures);
        float[] expected = Reference(x, w, rows, inFeatures, outFeatures);
        // Sums of 1024 products: fp32 accumulation order differs from the reference's double sum.
        AssertClose(yb.Download<float>(expected.Length), expected, 1e-4f, "sgemm linear");
    }

    [Test]
    public void Linear16_MatchesCpu([Values(CudaDType.F16, CudaDType.BF16)] CudaDType dtype)
    {
        foreach (int rows in new[] { 1, 33 }) Linear16(dtype, rows);
    }

    private static void Linear16(CudaDType dtype, int rows)
    {
        var d = RequireDevice();
        const int inFeatures = 256, outFeatures = 1025;
        float[] x = Quantize(Random(rows * inFeatures, 102), dtype), w = Quantize(Random(outFeatures * inFeatures, 103), dtype);
        using var xb = UploadAs(d, x, dtype);
        using var wb = UploadAs(d, w, dtype);
        using var yb = d.Allocate((long)rows * outFeatures * 2);
        CudaBlas.Linear16(d, dtype, xb.Pointer, wb.Pointer, yb.Pointer, rows, inFeatures, outFeatures);
        AssertClose(DownloadAs(yb, (long)rows * outFeatures, dtype), Quantize(Reference(x, w, rows, inFeatures, outFeatures), dtype),
            1e-2f, $"{dtype} linear");
    }

    private static float[] Reference(float[] x, float[] w, int rows, int inF, int outF)
    {
        var y = new float[rows * outF];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outF; o++)
            {
                double acc = 0;
                for (int i = 0; i < inF; i++) acc += (double)x[r * inF + i] * w[o * inF + i];
                y[r * outF + o] = (float)acc;
            }
        return y;
    }

    /// <summary>
    /// The decode-step pattern: a graph captured once reads its position from device memory and advances it, so each
    /// replay embeds the next position without any host-side argument change.
    /// </summary>
    [Test]
    public void Graph_ReplaysWithDeviceSidePositions()
    {
        var d = RequireDevice();
        const int vocab = 9, dim = 16;
        float[] table = Random(vocab * dim, 104);
        float[] freq = InverseFrequencies(dim);
        using var tb = d.Upload<float>(table);
        using var fb = d.Upload<float>(freq);
        using var tok = d.Upload<int>([4]);
        using var pos = d.Upload<int>([10]);
        using var ob = d.Allocate<float>(dim);
        using var graph = CudaGraph.Capture(d, () =>
        {
            CudaKernels.CounterAdd(d, pos.Pointer, 1, 1);
            CudaKernels.EmbedPositional(d, CudaDType.F32, tb.Pointer, vocab, tok.Pointer, 1, dim, 1f, 1f, true, fb.Pointer, 0, pos.Pointer, ob.Pointer, dim);
        });
        Assert.That(pos.Download<int>(1)[0], Is.EqualTo(10), "capturing runs nothing");
        for (int step = 1; step <= 3; step++)
        {
            graph.Launch();
            var expected = Enumerable.Range(0, dim).Select(c => table[4 * dim + c] + SinePe(10 + step, c, freq)).ToArray();
            AssertClose(ob.Download<float>(dim), expected, 1e-5f, $"replay {step}");
        }
    }

    [Test]
    public void Graph_CapturesCublas()
    {
        var d = RequireDevice();
        const int rows = 2, inF = 64, outF = 32;
        float[] x = Random(rows * inF, 105), w = Random(outF * inF, 106);
        using var xb = d.Upload<float>(x);
        using var wb = d.Upload<float>(w);
        using var yb = d.Allocate<float>(rows * outF);
        using var graph = CudaGraph.Capture(d, () => CudaBlas.LinearF32(d, xb.Pointer, wb.Pointer, yb.Pointer, rows, inF, outF));
        graph.Launch();
        AssertClose(yb.Download<float>(rows * outF), Reference(x, w, rows, inF, outF), 1e-4f, "captured sgemm");
    }

    [Test]
    public void Graph_BodyFailureLeavesTheStreamUsable()
    {
        var d = RequireDevice();
        Assert.Throws<InvalidOperationException>(() => CudaGraph.Capture(d, () => throw new InvalidOperationException("body")));
        using var b = d.Upload<int>([1]);
        CudaKernels.CounterAdd(d, b.Pointer, 1, 2);
        Assert.That(b.Download<int>(1)[0], Is.EqualTo(3));
    }

    [Test]
    public void MemoryPlan_AgainstTheDevice()
    {
        var d = RequireDevice();
        var (free, total) = d.MemoryInfo();
        Assert.That(free, Is.GreaterThan(0).And.LessThanOrEqualTo(total));
        new CudaMemoryPlan(1 << 20, 1 << 20, 1 << 20).EnsureFits(d, "a tiny plan");
        Assert.Throws<InvalidInputException>(() => new CudaMemoryPlan(total, total, 0).EnsureFits(d, "twice the GPU"));
    }

    [Test]
    public void OutOfMemory_SaysSo()
    {
        var d = RequireDevice();
        var e = Assert.Throws<CudaException>(() => d.Allocate(1L << 50))!;
        Assert.That(e.IsOutOfMemory, Is.True);
        Assert.That(e.Message, Does.Contain("out of GPU memory"));
    }
}
