using VallE.Runtime.Cuda;
using static VallE.Tests.Cuda.CudaTestSupport;

namespace VallE.Tests.Cuda;

/// <summary>Embedding + sine positional encoding and the fused add + LayerNorm / AdaLN (GPU only).</summary>
[TestFixture]
public class CudaEmbeddingNormTests
{
    [Test]
    public void EmbedPositional_MatchesCpu([Values] CudaDType dtype)
    {
        foreach (int count in new[] { 1, 5, 64 })
            foreach (int dim in new[] { 6, 1024 })
                foreach (bool devicePosition in new[] { false, true })
                    EmbedPositional(dtype, count, dim, devicePosition);
    }

    private static void EmbedPositional(CudaDType dtype, int count, int dim, bool devicePosition)
    {
        var d = RequireDevice();
        const int vocab = 37, pos0 = 3, devicePos = 11, pad = 4;
        float xScale = MathF.Sqrt(dim), alpha = 0.7f;
        float[] table = Quantize(Random(vocab * dim, 10), dtype);
        int[] tokens = RandomInts(count, 11, vocab);
        float[] freq = InverseFrequencies(dim);
        using var tb = UploadAs(d, table, dtype);
        using var tok = d.Upload<int>(tokens);
        using var fb = d.Upload<float>(freq);
        using var pb = d.Upload<int>([devicePos]);
        using var ob = d.Allocate<float>((long)count * (dim + pad));
        ob.Clear();
        CudaKernels.EmbedPositional(d, dtype, tb.Pointer, vocab, tok.Pointer, count, dim, xScale, alpha, positional: true,
            fb.Pointer, pos0, devicePosition ? pb.Pointer : 0, ob.Pointer, dim + pad);
        int start = pos0 + (devicePosition ? devicePos : 0);
        var expected = new float[count * (dim + pad)];
        for (int t = 0; t < count; t++)
            for (int c = 0; c < dim; c++)
                expected[t * (dim + pad) + c] = table[tokens[t] * dim + c] * xScale + alpha * SinePe(start + t, c, freq);
        AssertClose(ob.Download<float>(expected.Length), expected, 1e-5f, $"embed_pos {dtype} n{count} d{dim} devicePos={devicePosition}");
    }

    [Test]
    public void EmbedPositional_DeviceFrequenciesAreClose()
    {
        var d = RequireDevice();
        const int vocab = 5, dim = 256, count = 90;
        float[] table = Random(vocab * dim, 12);
        int[] tokens = RandomInts(count, 13, vocab);
        float[] freq = InverseFrequencies(dim);
        using var tb = d.Upload<float>(table);
        using var tok = d.Upload<int>(tokens);
        using var ob = d.Allocate<float>((long)count * dim);
        CudaKernels.EmbedPositional(d, CudaDType.F32, tb.Pointer, vocab, tok.Pointer, count, dim, 1f, 1f, true, 0, 0, 0, ob.Pointer, dim);
        var expected = new float[count * dim];
        for (int t = 0; t < count; t++)
            for (int c = 0; c < dim; c++) expected[t * dim + c] = table[tokens[t] * dim + c] + SinePe(t, c, freq);
        // Device expf is within 2 ulp of the host's; the angle error grows with the position (< 100 here).
        AssertClose(ob.Download<float>(expected.Length), expected, 1e-4f, "embed_pos with device frequencies");
    }

    [Test]
    public void EmbedPositional_OutOfRangeTokenGivesNaNRow()
    {
        var d = RequireDevice();
        using var tb = d.Upload<float>(Random(4 * 8, 14));
        using var tok = d.Upload<int>([1, 4, -1]);
        using var ob = d.Allocate<float>(3 * 8);
        CudaKernels.EmbedPositional(d, CudaDType.F32, tb.Pointer, 4, tok.Pointer, 3, 8, 1f, 1f, false, 0, 0, 0, ob.Pointer, 8);
        float[] o = ob.Download<float>(24);
        Assert.That(o.Take(8).All(float.IsFinite), Is.True);
        Assert.That(o.Skip(8).All(float.IsNaN), Is.True);
    }

    [Test]
    public void EmbedSumPositional_MatchesCpu([Values] CudaDType dtype)
    {
        foreach (int books in new[] { 1, 3, 8 })
            foreach (int count in new[] { 1, 77 })
                EmbedSumPositional(dtype, books, count);
    }

    private static void EmbedSumPositional(CudaDType dtype, int books, int count)
    {
        var d = RequireDevice();
        const int dim = 48, codeStride = 8, pos0 = 20;
        float alpha = 1.3f;
        int[] vocabs = Enumerable.Range(0, books).Select(b => b == 0 ? 1025 : 1024).ToArray();
        var tables = vocabs.Select((v, b) => Quantize(Random(v * dim, 20 + b), dtype)).ToArray();
        var tableBuffers = tables.Select(t => UploadAs(d, t, dtype)).ToArray();
        try
        {
            int[] codes = RandomInts(count * codeStride, 30, 1024);
            using var pointers = d.Upload<long>(tableBuffers.Select(t => (long)t.Pointer).ToArray());
            using var vb = d.Upload<int>(vocabs);
            using var cb = d.Upload<int>(codes);
            float[] freq = InverseFrequencies(dim);
            using var fb = d.Upload<float>(freq);
            using var ob = d.Allocate<float>((long)count * dim);
            CudaKernels.EmbedSumPositional(d, dtype, pointers.Pointer, vb.Pointer, books, cb.Pointer, codeStride, count, dim,
                1f, alpha, true, fb.Pointer, pos0, ob.Pointer, dim);
            var expected = new float[count * dim];
            for (int t = 0; t < count; t++)
                for (int c = 0; c < dim; c++)
                {
                    float acc = 0f;
                    for (int b = 0; b < books; b++) acc += tables[b][codes[t * codeStride + b] * dim + c];
                    expected[t * dim + c] = acc + alpha * SinePe(pos0 + t, c, freq);
                }
            AssertClose(ob.Download<float>(expected.Length), expected, 1e-5f, $"embed_sum_pos {dtype} books{books} n{count}");
        }
        finally
        {
            foreach (var b in tableBuffers) b.Dispose();
        }
    }

    [Test]
    public void AddLayerNorm_MatchesCpu([Values(CudaDType.F32, CudaDType.BF16)] CudaDType yDtype)
    {
        foreach (int dim in new[] { 1, 17, 1024, 1027 })
            foreach (int rows in new[] { 1, 3 })
                foreach (bool withDelta in new[] { false, true })
                    foreach (bool adaptive in new[] { false, true })
                        AddLayerNorm(dim, rows, withDelta, adaptive, yDtype);
    }

    private static void AddLayerNorm(int dim, int rows, bool withDelta, bool adaptive, CudaDType yDtype)
    {
        var d = RequireDevice();
        const float eps = 1e-5f;
        float[] x = Random(rows * dim, 40, 3f), delta = Random(rows * dim, 41), dbias = Random(dim, 42);
        float[] gamma = Random(dim, 43), beta = Random(dim, 44), scale = Random(dim, 45), shift = Random(dim, 46);
        // An offset mean stresses the variance computation (E[x^2] - E[x]^2 would lose digits here).
        for (int i = 0; i < x.Length; i++) x[i] += 50f;
        using var xb = d.Upload<float>(x);
        using var db = d.Upload<float>(delta);
        using var dbb = d.Upload<float>(dbias);
        using var gb = d.Upload<float>(gamma);
        using var bb = d.Upload<float>(beta);
        using var sb = d.Upload<float>(scale);
        using var shb = d.Upload<float>(shift);
        using var yb = d.Allocate((long)rows * dim * ElementBytes(yDtype));
        CudaKernels.AddLayerNorm(d, xb.Pointer, withDelta ? db.Pointer : 0, withDelta ? dbb.Pointer : 0, gb.Pointer, bb.Pointer,
            adaptive ? sb.Pointer : 0, adaptive ? shb.Pointer : 0, eps, yDtype, yb.Pointer, rows, dim);

        var residual = new float[x.Length];
        var expected = new float[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double sum = 0;
            for (int c = 0; c < dim; c++)
            {
                int i = r * dim + c;
                residual[i] = withDelta ? x[i] + (delta[i] + dbias[c]) : x[i];
                sum += residual[i];
            }
            double mean = sum / dim, sq = 0;
            for (int c = 0; c < dim; c++) sq += Math.Pow(residual[r * dim + c] - mean, 2);
            double rstd = 1 / Math.Sqrt(sq / dim + eps);
            for (int c = 0; c < dim; c++)
            {
                double v = (residual[r * dim + c] - mean) * rstd * gamma[c] + beta[c];
                if (adaptive) v = scale[c] * v + shift[c];
                expected[r * dim + c] = (float)v;
            }
        }
        AssertClose(xb.Download<float>(x.Length), residual, 1e-6f, "residual stream");
        // fp32: 1e-4 rather than 1e-5 because the offset of 50 costs ~6 bits in the centred values.
        AssertClose(DownloadAs(yb, x.Length, yDtype), Quantize(expected, yDtype), yDtype == CudaDType.F32 ? 1e-4f : 1e-2f,
            $"layernorm d{dim} rows{rows} delta={withDelta} ada={adaptive} {yDtype}");
    }
}
