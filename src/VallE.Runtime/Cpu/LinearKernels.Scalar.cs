using System.Runtime.CompilerServices;

namespace VallE.Runtime.Cpu;

/// <summary>The portable fallback: the same panel walk with plain float arithmetic (no FMA, so no fused rounding).</summary>
internal static unsafe class ScalarKernels
{
    [SkipLocalsInit]
    internal static void Rows1<TW>(byte* w, int kLen, float* x, float* c, float* bias, float* scale, bool accumulate)
        where TW : struct, IPanelFormat
    {
        const int width = PackedPanels.Width;
        float* acc = stackalloc float[width];
        new Span<float>(acc, width).Clear();
        int stride = width * TW.ElementBytes;
        for (int k = 0; k < kLen; k++, w += stride)
        {
            float xk = x[k];
            for (int j = 0; j < width; j++)
                acc[j] += TW.Load1(w, j) * xk;
        }
        for (int j = 0; j < width; j++)
        {
            float v = TW.Scaled ? acc[j] * scale[j] : acc[j];
            c[j] = v + (accumulate ? c[j] : bias[j]);
        }
    }
}
