using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace VallE.Runtime.Cpu;

/// <summary>
/// Attention of a block of up to <see cref="Rows"/> consecutive query rows of one segment and one head, for passes
/// with many rows (NAR stages, AR prefill). The per-row path (<see cref="RowAttention.Attend"/>) streams
/// every key channel once per row and is bound by memory; here each 8-key vector loaded from the channel-major
/// cache feeds one FMA per row of the block, and each value vector likewise, so the work becomes compute-bound.
/// Same semantics as the per-row path: q pre-scaled by 1/√headDim (as torch), max-subtracted softmax per row over
/// exactly the keys that row may see. Only the summation order of the dot products differs (FMA, blocked).
/// Needs AVX2+FMA (callers check <see cref="IsSupported"/>; otherwise they use the per-row path).
/// </summary>
internal static class BlockAttention
{
    /// <summary>Query rows per work item: 4 rows × 2 key vectors = 8 accumulators, well inside 16 registers.</summary>
    public const int Rows = 4;

    /// <summary>
    /// Whether <paramref name="backend"/> runs attention of this head size here: the kernel needs 256-bit FMA vectors
    /// (the backend's ISA at least AVX2) and pairs of channels, and the backend must have blocked attention on
    /// (tests and benchmarks turn it off to compare with the per-row path on the same machine).
    /// </summary>
    public static bool IsSupported(CpuBackend backend, int headDim) =>
        backend.BlockedAttention && backend.Isa >= KernelIsa.Avx2 && Vector256.IsHardwareAccelerated && headDim % 2 == 0;

    /// <param name="qkv">The pass's q/k/v rows ([rows, 3·Dim]).</param>
    /// <param name="firstRow">Activation row of the block's first query.</param>
    /// <param name="count">Rows in the block, 1..<see cref="Rows"/>; their visible key counts must not decrease.</param>
    /// <param name="scores">Scratch of at least Rows × (keys of the last row, rounded up to 16) floats.</param>
    /// <param name="q">Scratch of at least Rows × headDim floats.</param>
    public static void Attend(in AttentionShape layer, ReadOnlySpan<float> qkv, in Segment s, int firstRow, int count,
        int head, Span<float> scores, Span<float> q, Span<float> attnOut)
    {
        int d = layer.Dim, hd = layer.HeadDim;
        int cap = s.Cache.Capacity;
        var keys = s.Cache.Keys(layer.Layer);
        var values = s.Cache.Values(layer.Layer);
        int firstPos = s.Start + (firstRow - s.Row);
        int nMax = s.VisibleKeys(firstPos + count - 1);
        int stride = (nMax + 15) & ~15;

        // Rows past count get q = 0: their (discarded) scores cost a little work but no branches in the kernel.
        float scale = 1f / MathF.Sqrt(hd);
        for (int r = 0; r < Rows; r++)
        {
            var qr = q.Slice(r * hd, hd);
            if (r < count) TensorPrimitives.Multiply(qkv.Slice((firstRow + r) * 3 * d + head * hd, hd), scale, qr);
            else qr.Clear();
        }

        ref float k0 = ref MemoryMarshal.GetArrayDataReference(keys);
        ref float v0 = ref MemoryMarshal.GetArrayDataReference(values);
        nint channel0 = (nint)head * hd * cap;
        Scores(ref Unsafe.Add(ref k0, channel0), cap, hd, nMax, ref MemoryMarshal.GetReference(q),
            ref MemoryMarshal.GetReference(scores), stride);

        // Per-row softmax over that row's own keys; keys it may not see get probability 0, so the blocked P·V below
        // can run every row over nMax keys (adding exact zeros changes nothing).
        for (int r = 0; r < count; r++)
        {
            int n = s.VisibleKeys(firstPos + r);
            var sc = scores.Slice(r * stride, n);
            TensorPrimitives.Subtract(sc, TensorPrimitives.Max(sc), sc);
            TensorPrimitives.Exp(sc, sc);
            TensorPrimitives.Divide(sc, TensorPrimitives.Sum(sc), sc);
            scores.Slice(r * stride + n, stride - n).Clear();
        }
        for (int r = count; r < Rows; r++) scores.Slice(r * stride, stride).Clear();

        WeightedValues(ref Unsafe.Add(ref v0, channel0), cap, hd, nMax, ref MemoryMarshal.GetReference(scores), stride,
            attnOut, firstRow * d + head * hd, d, count);
    }

    /// <summary>
    /// The decode step's case, one query row: the same register-accumulated kernels with one row, which keep the
    /// scores in registers instead of updating a score vector in memory once per channel (the per-row path's
    /// MultiplyAdd sweep reads and writes it headDim times).
    /// </summary>
    public static void AttendRow(in AttentionShape layer, ReadOnlySpan<float> qkv, in Segment s, int row, int head,
        Span<float> scores, Span<float> q, Span<float> attnOut)
    {
        int d = layer.Dim, hd = layer.HeadDim;
        int cap = s.Cache.Capacity;
        int n = s.VisibleKeys(s.Start + (row - s.Row));
        var qr = q[..hd];
        TensorPrimitives.Multiply(qkv.Slice(row * 3 * d + head * hd, hd), 1f / MathF.Sqrt(hd), qr);
        nint channel0 = (nint)head * hd * cap;
        ref float k = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(s.Cache.Keys(layer.Layer)), channel0);
        ref float v = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(s.Cache.Values(layer.Layer)), channel0);
        ref float q0 = ref MemoryMarshal.GetReference(qr);
        ref float sc0 = ref MemoryMarshal.GetReference(scores);

        int j = 0;
        for (; j + 32 <= n; j += 32)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int e = 0; e < hd; e++)
            {
                ref float ke = ref Unsafe.Add(ref k, (nint)e * cap + j);
                var qe = Vector256.Create(Unsafe.Add(ref q0, e));
                a0 = Vector256.FusedMultiplyAdd(qe, Vector256.LoadUnsafe(ref ke), a0);
                a1 = Vector256.FusedMultiplyAdd(qe, Vector256.LoadUnsafe(ref ke, 8), a1);
                a2 = Vector256.FusedMultiplyAdd(qe, Vector256.LoadUnsafe(ref ke, 16), a2);
                a3 = Vector256.FusedMultiplyAdd(qe, Vector256.LoadUnsafe(ref ke, 24), a3);
            }
            a0.StoreUnsafe(ref sc0, (nuint)j); a1.StoreUnsafe(ref sc0, (nuint)(j + 8));
            a2.StoreUnsafe(ref sc0, (nuint)(j + 16)); a3.StoreUnsafe(ref sc0, (nuint)(j + 24));
        }
        for (; j + 8 <= n; j += 8)
        {
            Vector256<float> a = default;
            for (int e = 0; e < hd; e++)
                a = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref q0, e)),
                    Vector256.LoadUnsafe(ref Unsafe.Add(ref k, (nint)e * cap + j)), a);
            a.StoreUnsafe(ref sc0, (nuint)j);
        }
        for (; j < n; j++)
        {
            float acc = 0;
            for (int e = 0; e < hd; e++)
                acc = MathF.FusedMultiplyAdd(Unsafe.Add(ref q0, e), Unsafe.Add(ref k, (nint)e * cap + j), acc);
            Unsafe.Add(ref sc0, j) = acc;
        }

        var sc = scores[..n];
        TensorPrimitives.Subtract(sc, TensorPrimitives.Max(sc), sc);
        TensorPrimitives.Exp(sc, sc);
        TensorPrimitives.Divide(sc, TensorPrimitives.Sum(sc), sc);

        // P·V four channels at a time: each probability vector load feeds four FMAs.
        var o = attnOut.Slice(row * d + head * hd, hd);
        int nVec = n & ~7, e0 = 0;
        for (; e0 + 4 <= hd; e0 += 4)
        {
            ref float va = ref Unsafe.Add(ref v, (nint)e0 * cap);
            ref float vb = ref Unsafe.Add(ref va, cap);
            ref float vc = ref Unsafe.Add(ref vb, cap);
            ref float vd = ref Unsafe.Add(ref vc, cap);
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int jj = 0; jj < nVec; jj += 8)
            {
                var p = Vector256.LoadUnsafe(ref sc0, (nuint)jj);
                a0 = Vector256.FusedMultiplyAdd(p, Vector256.LoadUnsafe(ref va, (nuint)jj), a0);
                a1 = Vector256.FusedMultiplyAdd(p, Vector256.LoadUnsafe(ref vb, (nuint)jj), a1);
                a2 = Vector256.FusedMultiplyAdd(p, Vector256.LoadUnsafe(ref vc, (nuint)jj), a2);
                a3 = Vector256.FusedMultiplyAdd(p, Vector256.LoadUnsafe(ref vd, (nuint)jj), a3);
            }
            float s0 = Vector256.Sum(a0), s1 = Vector256.Sum(a1), s2 = Vector256.Sum(a2), s3 = Vector256.Sum(a3);
            for (int jj = nVec; jj < n; jj++)
            {
                float p = Unsafe.Add(ref sc0, jj);
                s0 = MathF.FusedMultiplyAdd(p, Unsafe.Add(ref va, jj), s0);
                s1 = MathF.FusedMultiplyAdd(p, Unsafe.Add(ref vb, jj), s1);
                s2 = MathF.FusedMultiplyAdd(p, Unsafe.Add(ref vc, jj), s2);
                s3 = MathF.FusedMultiplyAdd(p, Unsafe.Add(ref vd, jj), s3);
            }
            o[e0] = s0; o[e0 + 1] = s1; o[e0 + 2] = s2; o[e0 + 3] = s3;
        }
        for (; e0 < hd; e0++)
            o[e0] = TensorPrimitives.Dot(sc, s.Cache.Values(layer.Layer).AsSpan((int)channel0 + e0 * cap, n));
    }

    /// <summary>scores[r, j] = Σ_e q[r, e] · K[e, j] for j below n (then scalar tails).</summary>
    private static void Scores(ref float k, int cap, int hd, int n, ref float q, ref float scores, int stride)
    {
        int j = 0;
        for (; j + 16 <= n; j += 16)
        {
            Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default;
            Vector256<float> a20 = default, a21 = default, a30 = default, a31 = default;
            for (int e = 0; e < hd; e++)
            {
                ref float ke = ref Unsafe.Add(ref k, (nint)e * cap + j);
                var kv0 = Vector256.LoadUnsafe(ref ke);
                var kv1 = Vector256.LoadUnsafe(ref ke, 8);
                var q0 = Vector256.Create(Unsafe.Add(ref q, e));
                var q1 = Vector256.Create(Unsafe.Add(ref q, hd + e));
                var q2 = Vector256.Create(Unsafe.Add(ref q, 2 * hd + e));
                var q3 = Vector256.Create(Unsafe.Add(ref q, 3 * hd + e));
                a00 = Vector256.FusedMultiplyAdd(q0, kv0, a00); a01 = Vector256.FusedMultiplyAdd(q0, kv1, a01);
                a10 = Vector256.FusedMultiplyAdd(q1, kv0, a10); a11 = Vector256.FusedMultiplyAdd(q1, kv1, a11);
                a20 = Vector256.FusedMultiplyAdd(q2, kv0, a20); a21 = Vector256.FusedMultiplyAdd(q2, kv1, a21);
                a30 = Vector256.FusedMultiplyAdd(q3, kv0, a30); a31 = Vector256.FusedMultiplyAdd(q3, kv1, a31);
            }
            a00.StoreUnsafe(ref scores, (nuint)j); a01.StoreUnsafe(ref scores, (nuint)(j + 8));
            a10.StoreUnsafe(ref scores, (nuint)(stride + j)); a11.StoreUnsafe(ref scores, (nuint)(stride + j + 8));
            a20.StoreUnsafe(ref scores, (nuint)(2 * stride + j)); a21.StoreUnsafe(ref scores, (nuint)(2 * stride + j + 8));
            a30.StoreUnsafe(ref scores, (nuint)(3 * stride + j)); a31.StoreUnsafe(ref scores, (nuint)(3 * stride + j + 8));
        }
        for (; j + 8 <= n; j += 8)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int e = 0; e < hd; e++)
            {
                var kv = Vector256.LoadUnsafe(ref Unsafe.Add(ref k, (nint)e * cap + j));
                a0 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref q, e)), kv, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref q, hd + e)), kv, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref q, 2 * hd + e)), kv, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref q, 3 * hd + e)), kv, a3);
            }
            a0.StoreUnsafe(ref scores, (nuint)j);
            a1.StoreUnsafe(ref scores, (nuint)(stride + j));
            a2.StoreUnsafe(ref scores, (nuint)(2 * stride + j));
            a3.StoreUnsafe(ref scores, (nuint)(3 * stride + j));
        }
        for (; j < n; j++)
            for (int r = 0; r < Rows; r++)
            {
                float acc = 0;
                for (int e = 0; e < hd; e++)
                    acc = MathF.FusedMultiplyAdd(Unsafe.Add(ref q, r * hd + e), Unsafe.Add(ref k, (nint)e * cap + j), acc);
                Unsafe.Add(ref scores, r * stride + j) = acc;
            }
    }

    /// <summary>out[r, e] = Σ_j p[r, j] · V[e, j] over j below n, two channels × four rows per pass over the keys.</summary>
    private static void WeightedValues(ref float v, int cap, int hd, int n, ref float p, int stride,
        Span<float> output, int outOffset, int outStride, int count)
    {
        int nVec = n & ~7;
        Span<float> sa = stackalloc float[Rows];
        Span<float> sb = stackalloc float[Rows];
        for (int e = 0; e < hd; e += 2)
        {
            ref float va = ref Unsafe.Add(ref v, (nint)e * cap);
            ref float vb = ref Unsafe.Add(ref v, (nint)(e + 1) * cap);
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
            for (int j = 0; j < nVec; j += 8)
            {
                var x = Vector256.LoadUnsafe(ref va, (nuint)j);
                var y = Vector256.LoadUnsafe(ref vb, (nuint)j);
                var p0 = Vector256.LoadUnsafe(ref p, (nuint)j);
                var p1 = Vector256.LoadUnsafe(ref p, (nuint)(stride + j));
                var p2 = Vector256.LoadUnsafe(ref p, (nuint)(2 * stride + j));
                var p3 = Vector256.LoadUnsafe(ref p, (nuint)(3 * stride + j));
                a0 = Vector256.FusedMultiplyAdd(p0, x, a0); b0 = Vector256.FusedMultiplyAdd(p0, y, b0);
                a1 = Vector256.FusedMultiplyAdd(p1, x, a1); b1 = Vector256.FusedMultiplyAdd(p1, y, b1);
                a2 = Vector256.FusedMultiplyAdd(p2, x, a2); b2 = Vector256.FusedMultiplyAdd(p2, y, b2);
                a3 = Vector256.FusedMultiplyAdd(p3, x, a3); b3 = Vector256.FusedMultiplyAdd(p3, y, b3);
            }
            sa[0] = Vector256.Sum(a0); sa[1] = Vector256.Sum(a1); sa[2] = Vector256.Sum(a2); sa[3] = Vector256.Sum(a3);
            sb[0] = Vector256.Sum(b0); sb[1] = Vector256.Sum(b1); sb[2] = Vector256.Sum(b2); sb[3] = Vector256.Sum(b3);
            for (int j = nVec; j < n; j++)
                for (int r = 0; r < Rows; r++)
                {
                    float pr = Unsafe.Add(ref p, r * stride + j);
                    sa[r] = MathF.FusedMultiplyAdd(pr, Unsafe.Add(ref va, j), sa[r]);
                    sb[r] = MathF.FusedMultiplyAdd(pr, Unsafe.Add(ref vb, j), sb[r]);
                }
            for (int r = 0; r < count; r++)
            {
                output[outOffset + r * outStride + e] = sa[r];
                output[outOffset + r * outStride + e + 1] = sb[r];
            }
        }
    }
}
