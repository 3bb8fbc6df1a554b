using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace VallE.Runtime.Cpu;

/// <summary>
/// AVX-512 micro-kernels over one packed panel chunk: <c>c[r, 0..32) (+)= Σ_k x[r, k] · panel[k][0..32)</c>.
/// Each k-step loads 32 weights (two zmm) once and multiplies them by every row's broadcast input, so weight
/// bytes are read once per tile however many rows it covers. Epilogue: ·scale (int8), then + bias on the first
/// k-chunk, or + c on the later ones.
/// </summary>
internal static unsafe class Avx512Kernels
{
    /// <summary>4 rows x 32 outputs: 8 accumulators, enough independent FMA chains to hide the FMA latency.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Rows4<TW>(byte* w, int kLen, float* x, int ldx, float* c, int ldc, float* bias, float* scale, bool accumulate)
        where TW : struct, IPanelFormat
    {
        Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default;
        Vector512<float> a20 = default, a21 = default, a30 = default, a31 = default;
        float* x0 = x, x1 = x + ldx, x2 = x1 + ldx, x3 = x2 + ldx;
        int stride = PackedPanels.Width * TW.ElementBytes;
        for (int k = 0; k < kLen; k++, w += stride)
        {
            TW.Load512(w, out var w0, out var w1);
            var b = Vector512.Create(x0[k]);
            a00 = Vector512.FusedMultiplyAdd(w0, b, a00);
            a01 = Vector512.FusedMultiplyAdd(w1, b, a01);
            b = Vector512.Create(x1[k]);
            a10 = Vector512.FusedMultiplyAdd(w0, b, a10);
            a11 = Vector512.FusedMultiplyAdd(w1, b, a11);
            b = Vector512.Create(x2[k]);
            a20 = Vector512.FusedMultiplyAdd(w0, b, a20);
            a21 = Vector512.FusedMultiplyAdd(w1, b, a21);
            b = Vector512.Create(x3[k]);
            a30 = Vector512.FusedMultiplyAdd(w0, b, a30);
            a31 = Vector512.FusedMultiplyAdd(w1, b, a31);
        }
        Finish<TW>(c, a00, a01, bias, scale, accumulate);
        Finish<TW>(c + ldc, a10, a11, bias, scale, accumulate);
        Finish<TW>(c + 2 * ldc, a20, a21, bias, scale, accumulate);
        Finish<TW>(c + 3 * ldc, a30, a31, bias, scale, accumulate);
    }

    /// <summary>1 row x 32 outputs, two k-steps per iteration into separate accumulators (4 chains, not 2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Rows1<TW>(byte* w, int kLen, float* x, float* c, float* bias, float* scale, bool accumulate)
        where TW : struct, IPanelFormat
    {
        Vector512<float> a0 = default, a1 = default, b0 = default, b1 = default;
        int stride = PackedPanels.Width * TW.ElementBytes;
        int k = 0;
        for (; k + 1 < kLen; k += 2, w += 2 * stride)
        {
            TW.Load512(w, out var w0, out var w1);
            TW.Load512(w + stride, out var v0, out var v1);
            var xa = Vector512.Create(x[k]);
            var xb = Vector512.Create(x[k + 1]);
            a0 = Vector512.FusedMultiplyAdd(w0, xa, a0);
            a1 = Vector512.FusedMultiplyAdd(w1, xa, a1);
            b0 = Vector512.FusedMultiplyAdd(v0, xb, b0);
            b1 = Vector512.FusedMultiplyAdd(v1, xb, b1);
        }
        if (k < kLen)
        {
            TW.Load512(w, out var w0, out var w1);
            var xa = Vector512.Create(x[k]);
            a0 = Vector512.FusedMultiplyAdd(w0, xa, a0);
            a1 = Vector512.FusedMultiplyAdd(w1, xa, a1);
        }
        Finish<TW>(c, a0 + b0, a1 + b1, bias, scale, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<TW>(float* c, Vector512<float> v0, Vector512<float> v1, float* bias, float* scale, bool accumulate)
        where TW : struct, IPanelFormat
    {
        if (TW.Scaled)
        {
            v0 *= Vector512.Load(scale);
            v1 *= Vector512.Load(scale + 16);
        }
        float* add = accumulate ? c : bias;
        (v0 + Vector512.Load(add)).Store(c);
        (v1 + Vector512.Load(add + 16)).Store(c + 16);
    }
}
