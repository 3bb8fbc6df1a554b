using VallE.Runtime.Cuda;
using static VallE.Tests.Cuda.CudaTestSupport;

namespace VallE.Tests.Cuda;

/// <summary>Prefill attention with the VALL-E mask, split-KV decode attention and the KV-cache append (GPU only).</summary>
[TestFixture]
public class CudaAttentionTests
{
    /// <summary>softmax(q·k * scale + mask) v in double for one head; visible(j, p) = !causal || j &lt; nText || j &lt;= p.</summary>
    private static void ReferenceAttention(float[] q, int qOff, int qStride, float[] k, int kOff, float[] v, int vOff, int kvStride,
        int nQ, int nKv, int headDim, int qPos0, int nText, bool causal, float scale, float[] output, int outOff, int outStride)
    {
        var scores = new double[nKv];
        for (int i = 0; i < nQ; i++)
        {
            int p = qPos0 + i;
            double max = double.NegativeInfinity;
            for (int j = 0; j < nKv; j++)
            {
                bool visible = !causal || j < nText || j <= p;
                double s = double.NegativeInfinity;
                if (visible)
                {
                    s = 0;
                    for (int c = 0; c < headDim; c++) s += (double)q[qOff + i * qStride + c] * k[kOff + j * kvStride + c];
                    s *= scale;
                }
                scores[j] = s;
                max = Math.Max(max, s);
            }
            double sum = 0;
            for (int j = 0; j < nKv; j++) sum += scores[j] = double.IsNegativeInfinity(scores[j]) ? 0 : Math.Exp(scores[j] - max);
            for (int c = 0; c < headDim; c++)
            {
                double acc = 0;
                for (int j = 0; j < nKv; j++) acc += scores[j] * v[vOff + j * kvStride + c];
                output[outOff + i * outStride + c] = (float)(acc / sum);
            }
        }
    }

    // (batch, tokens, text length, heads, head dim, causal)
    private static readonly object[] PrefillCases =
    [
        new object[] { 1, 1, 1, 1, 64, true },
        new object[] { 1, 7, 3, 2, 8, true },
        new object[] { 2, 37, 11, 4, 64, true },
        new object[] { 1, 300, 45, 16, 64, true },
        new object[] { 1, 50, 0, 2, 128, true },
        new object[] { 1, 20, 20, 2, 80, true },
        new object[] { 2, 33, 33, 3, 16, false },
        new object[] { 1, 129, 17, 2, 96, false },
    ];

    [TestCaseSource(nameof(PrefillCases))]
    public void Prefill_MatchesCpu(int batch, int tokens, int nText, int heads, int headDim, bool causal)
    {
        foreach (CudaDType dtype in Enum.GetValues<CudaDType>()) Prefill(dtype, batch, tokens, nText, heads, headDim, causal, queryStart: 0);
    }

    /// <summary>Chunked prefill: the last rows of a sequence as queries, attending to every key before them.</summary>
    [Test]
    public void Prefill_QueriesAtAnOffset([Values(0, 35, 39)] int queryStart) =>
        Prefill(CudaDType.F32, 1, 40, 12, 4, 32, true, queryStart);

    private static void Prefill(CudaDType dtype, int batch, int tokens, int nText, int heads, int headDim, bool causal, int queryStart)
    {
        var d = RequireDevice();
        int dim = heads * headDim, row = 3 * dim, nQ = tokens - queryStart;
        float scale = 1f / MathF.Sqrt(headDim);
        // The fused in_proj output [batch, tokens, 3 * dim]: q, k, v as column slices (how the model calls it).
        float[] qkv = Quantize(Random(batch * tokens * row, 50 + tokens, 2f), dtype);
        using var qkvb = UploadAs(d, qkv, dtype);
        using var ob = d.Allocate((long)batch * nQ * dim * ElementBytes(dtype));
        int es = ElementBytes(dtype);
        CudaKernels.AttentionPrefill(d, dtype, qkvb.Pointer + (nint)queryStart * row * es, row, (long)tokens * row,
            qkvb.Pointer + dim * es, qkvb.Pointer + 2 * dim * es, row, (long)tokens * row,
            ob.Pointer, dim, (long)nQ * dim, batch, nQ, tokens, heads, headDim, queryStart, nText, causal, scale);
        var expected = new float[batch * nQ * dim];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                ReferenceAttention(qkv, b * tokens * row + queryStart * row + h * headDim, row,
                    qkv, b * tokens * row + dim + h * headDim, qkv, b * tokens * row + 2 * dim + h * headDim, row,
                    nQ, tokens, headDim, queryStart, nText, causal, scale, expected, b * nQ * dim + h * headDim, dim);
        AssertClose(DownloadAs(ob, expected.Length, dtype), Quantize(expected, dtype), Tolerance(dtype),
            $"prefill {dtype} b{batch} t{tokens} text{nText} h{heads}x{headDim} causal={causal} q0={queryStart}");
    }

    // (batch, capacity, lengths, heads, head dim)
    private static readonly object[] DecodeCases =
    [
        new object[] { 1, 1, new[] { 1 }, 1, 64 },
        new object[] { 1, 300, new[] { 255 }, 2, 64 },
        new object[] { 1, 300, new[] { 256 }, 2, 64 },
        new object[] { 1, 300, new[] { 257 }, 2, 64 },
        new object[] { 2, 1000, new[] { 700, 3 }, 4, 32 },
        new object[] { 3, 2048, new[] { 2048, 1, 1000 }, 16, 64 },
        new object[] { 1, 513, new[] { 513 }, 2, 128 },
    ];

    [TestCaseSource(nameof(DecodeCases))]
    public void Decode_MatchesCpu(int batch, int capacity, int[] lengths, int heads, int headDim)
    {
        foreach (CudaDType cacheDtype in Enum.GetValues<CudaDType>())
        {
            Decode(CudaDType.F32, cacheDtype, batch, capacity, lengths, heads, headDim);
            Decode(CudaDType.F16, cacheDtype, batch, capacity, lengths, heads, headDim);
        }
    }

    private static void Decode(CudaDType dtype, CudaDType cacheDtype, int batch, int capacity, int[] lengths, int heads, int headDim)
    {
        var d = RequireDevice();
        int dim = heads * headDim, maxLen = lengths.Max();
        float scale = 1f / MathF.Sqrt(headDim);
        float[] k = Random(batch * maxLen * dim, 60, 2f), v = Random(batch * maxLen * dim, 61);
        float[] q = Quantize(Random(batch * dim, 62, 2f), dtype);
        using var kb = d.Upload<float>(k);
        using var vb = d.Upload<float>(v);
        using var kc = d.Allocate((long)batch * capacity * dim * ElementBytes(cacheDtype));
        using var vc = d.Allocate((long)batch * capacity * dim * ElementBytes(cacheDtype));
        // Poison the cache with NaN: a row past a sequence's length that is read shows up in the output.
        using (var nan = d.Upload<float>(Enumerable.Repeat(float.NaN, batch * capacity * dim).ToArray()))
        {
            CudaKernels.Convert(d, CudaDType.F32, nan.Pointer, cacheDtype, kc.Pointer, (long)batch * capacity * dim);
            CudaKernels.Convert(d, CudaDType.F32, nan.Pointer, cacheDtype, vc.Pointer, (long)batch * capacity * dim);
            d.Synchronize();
        }
        CudaKernels.KvAppend(d, kb.Pointer, vb.Pointer, dim, (long)maxLen * dim, cacheDtype, kc.Pointer, vc.Pointer, capacity,
            batch, maxLen, dim, 0, 0);
        using var qb = UploadAs(d, q, dtype);
        using var lb = d.Upload<int>(lengths);
        using var partials = d.Allocate<float>(CudaKernels.AttentionDecodePartialsFloats(batch, heads, headDim, capacity));
        using var ob = d.Allocate((long)batch * dim * ElementBytes(dtype));
        CudaKernels.AttentionDecode(d, dtype, qb.Pointer, dim, cacheDtype, kc.Pointer, vc.Pointer, capacity, maxLen, lb.Pointer,
            ob.Pointer, dim, batch, heads, headDim, scale, partials.Pointer);

        float[] kq = Quantize(k, cacheDtype), vq = Quantize(v, cacheDtype);
        var expected = new float[batch * dim];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                ReferenceAttention(q, b * dim + h * headDim, dim, kq, b * maxLen * dim + h * headDim, vq, b * maxLen * dim + h * headDim,
                    dim, 1, lengths[b], headDim,
                    qPos0: lengths[b] - 1, nText: 0, causal: false, scale, expected, b * dim + h * headDim, dim);
        float tol = dtype == CudaDType.F32 && cacheDtype == CudaDType.F32 ? 1e-5f : 1e-2f;
        AssertClose(DownloadAs(ob, expected.Length, dtype), Quantize(expected, dtype), tol,
            $"decode q={dtype} cache={cacheDtype} b{batch} cap{capacity} len[{string.Join(",", lengths)}] h{heads}x{headDim}");
    }

    [Test]
    public void KvAppend_AtDevicePositions_DropsRowsPastCapacity([Values] CudaDType cacheDtype)
    {
        var d = RequireDevice();
        const int batch = 2, capacity = 8, rows = 4, dim = 3;
        float[] k = Quantize(Random(batch * rows * dim, 70), cacheDtype), v = Quantize(Random(batch * rows * dim, 71), cacheDtype);
        using var kb = d.Upload<float>(k);
        using var vb = d.Upload<float>(v);
        using var pos = d.Upload<int>([3, 6]);
        using var kc = d.Allocate((long)batch * capacity * dim * ElementBytes(cacheDtype));
        using var vc = d.Allocate((long)batch * capacity * dim * ElementBytes(cacheDtype));
        kc.Clear();
        vc.Clear();
        CudaKernels.KvAppend(d, kb.Pointer, vb.Pointer, dim, (long)rows * dim, cacheDtype, kc.Pointer, vc.Pointer, capacity,
            batch, rows, dim, 0, pos.Pointer);
        var expectedK = new float[batch * capacity * dim];
        var expectedV = new float[batch * capacity * dim];
        int[] start = [3, 6];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < rows; t++)
            {
                int p = start[b] + t;
                if (p >= capacity) continue;
                for (int c = 0; c < dim; c++)
                {
                    expectedK[(b * capacity + p) * dim + c] = k[(b * rows + t) * dim + c];
                    expectedV[(b * capacity + p) * dim + c] = v[(b * rows + t) * dim + c];
                }
            }
        AssertClose(DownloadAs(kc, expectedK.Length, cacheDtype), expectedK, 0f, "k cache");
        AssertClose(DownloadAs(vc, expectedV.Length, cacheDtype), expectedV, 0f, "v cache");
    }

    /// <summary>Decode after a prefill through the cache equals the last row of a prefill over everything.</summary>
    [Test]
    public void Decode_EqualsLastRowOfCausalPrefill()
    {
        var d = RequireDevice();
        const int tokens = 97, nText = 30, heads = 4, headDim = 64, dim = heads * headDim, capacity = 128;
        float scale = 1f / MathF.Sqrt(headDim);
        float[] q = Random(tokens * dim, 80), k = Random(tokens * dim, 81), v = Random(tokens * dim, 82);
        using var qb = d.Upload<float>(q);
        using var kb = d.Upload<float>(k);
        using var vb = d.Upload<float>(v);
        using var prefill = d.Allocate<float>((long)tokens * dim);
        CudaKernels.AttentionPrefill(d, CudaDType.F32, qb.Pointer, dim, 0, kb.Pointer, vb.Pointer, dim, 0, prefill.Pointer, dim, 0,
            1, tokens, tokens, heads, headDim, 0, nText, true, scale);
        using var kc = d.Allocate<float>((long)capacity * dim);
        using var vc = d.Allocate<float>((long)capacity * dim);
        CudaKernels.KvAppend(d, kb.Pointer, vb.Pointer, dim, 0, CudaDType.F32, kc.Pointer, vc.Pointer, capacity, 1, tokens, dim, 0, 0);
        using var partials = d.Allocate<float>(CudaKernels.AttentionDecodePartialsFloats(1, heads, headDim, capacity));
        using var decode = d.Allocate<float>(dim);
        CudaKernels.AttentionDecode(d, CudaDType.F32, qb.At<float>((long)(tokens - 1) * dim), dim, CudaDType.F32, kc.Pointer, vc.Pointer,
            capacity, tokens, 0, decode.Pointer, dim, 1, heads, headDim, scale, partials.Pointer);
        var last = new float[dim];
        prefill.Download<float>(last, (long)(tokens - 1) * dim);
        AssertClose(decode.Download<float>(dim), last, 1e-5f, "decode vs prefill last row");
    }
}
