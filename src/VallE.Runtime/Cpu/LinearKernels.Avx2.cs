using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace VallE.Runtime.Cpu;

/// <summary>
/// AVX2 + FMA micro-kernels, the same contract as <see cref="Avx512Kernels"/> with 8-wide vectors: 32 outputs are
/// four ymm, so two rows fill 8 of the 16 registers with accumulators and leave room for weights and broadcasts.
/// </summary>
internal static unsafe class Avx2Kernels
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Rows2<TW>(byte* w, int kLen, float* x, int ldx, float* c, int ldc, float* bias, float* scale, bool accumulate)
        where TW : struct, IPanelFormat
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
        float* x0 = x, x1 = x + ldx;
        int stride = PackedPanels.Width * TW.ElementBytes;
        for (int k = 0; k < kLen; k++, w += stride)
        {
            TW.Load256(w, out var w0, out var w1, out var w2, out var w3);
            var s = Vector256.Create(x0[k]);
            a0 = Vector256.FusedMultiplyAdd(w0, s, a0);
            a1 = Vector256.FusedMultiplyAdd(w1, s, a1);
            a2 = Vector256.FusedMultiplyAdd(w2, s, a2);
            a3 = Vector256.FusedMultiplyAdd(w3, s, a3);
            s = Vector256.Create(x1[k]);
            b0 = Vector256.FusedMultiplyAdd(w0, s, b0);
            b1 = Vector256.FusedMultiplyAdd(w1, s, b1);
            b2 = Vector256.FusedMultiplyAdd(w2, s, b2);
            b3 = Vector256.FusedMultiplyAdd(w3, s, b3);
        }
        Finish<TW>(c, a0, a1, a2, a3, bias, scale, accumulate);
        Finish<TW>(c + ldc, b0, b1, b2, b3, bias, scale, accumulate);
    }

    /// <summary>1 row: two k-steps per iteration into separate accumulators (8 chains).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Rows1<TW>(byte* w, int kLen, float* x, float* c, float* bias, float* scale, bool accumulate)
        where TW : struct, IPanelFormat
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
        int stride = PackedPanels.Width * TW.ElementBytes;
        int k = 0;
        for (; k + 1 < kLen; k += 2, w += 2 * stride)
        {
            TW.Load256(w, out var w0, out var w1, out var w2, out var w3);
            var s = Vector256.Create(x[k]);
            a0 = Vector256.FusedMultiplyAdd(w0, s, a0);
            a1 = Vector256.FusedMultiplyAdd(w1, s, a1);
            a2 = Vector256.FusedMultiplyAdd(w2, s, a2);
            a3 = Vector256.FusedMultiplyAdd(w3, s, a3);
            TW.Load256(w + stride, out w0, out w1, out w2, out w3);
            s = Vector256.Create(x[k + 1]);
            b0 = Vector256.FusedMultiplyAdd(w0, s, b0);
            b1 = Vector256.FusedMultiplyAdd(w1, s, b1);
            b2 = Vector256.FusedMultiplyAdd(w2, s, b2);
            b3 = Vector256.FusedMultiplyAdd(w3, s, b3);
        }
        if (k < kLen)
        {
            TW.Load256(w, out var w0, out var w1, out var w2, out var w3);
            var s = Vector256.Create(x[k]);
            a0 = Vector256.FusedMultiplyAdd(w0, s, a0);
            a1 = Vector256.FusedMultiplyAdd(w1, s, a1);
            a2 = Vector256.FusedMultiplyAdd(w2, s, a2);
            a3 = Vector256.FusedMultiplyAdd(w3, s, a3);
        }
        Finish<TW>(c, a0 + b0, a1 + b1, a2 + b2, a3 + b3, bias, scale, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<TW>(float* c, Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3,
        float* bias, float* scale, bool accumulate)
        where TW : struct, IPanelFormat
    {
        if (TW.Scaled)
        {
            v0 *= Vector256.Load(scale);
            v1 *= Vector256.Load(scale + 8);
            v2 *= Vector256.Load(scale + 16);
            v3 *= Vector256.Load(scale + 24);
        }
        float* add = accumulate ? c : bias;
        (v0 + Vector256.Load(add)).Store(c);
        (v1 + Vector256.Load(add + 8)).Store(c + 8);
        (v2 + Vector256.Load(add + 16)).Store(c + 16);
        (v3 + Vector256.Load(add + 24)).Store(c + 24);
    }
}
