using System.Runtime.Intrinsics;

namespace VallE.Runtime.Cpu;

/// <summary>Expands a packed bf16/int8 panel chunk to float32 panel layout, with int8's per-output scale folded in.</summary>
internal static unsafe class PanelDecoder
{
    internal static void ToF32<TW>(byte* w, int kLen, float* scale, float* output, KernelIsa isa) where TW : struct, IPanelFormat
    {
        const int width = PackedPanels.Width;
        int stride = width * TW.ElementBytes;
        switch (isa)
        {
            case KernelIsa.Avx512:
            {
                var s0 = TW.Scaled ? Vector512.Load(scale) : Vector512<float>.One;
                var s1 = TW.Scaled ? Vector512.Load(scale + 16) : Vector512<float>.One;
                for (int k = 0; k < kLen; k++, w += stride, output += width)
                {
                    TW.Load512(w, out var w0, out var w1);
                    if (TW.Scaled) { w0 *= s0; w1 *= s1; }
                    w0.Store(output);
                    w1.Store(output + 16);
                }
                break;
            }
            case KernelIsa.Avx2:
            {
                for (int k = 0; k < kLen; k++, w += stride, output += width)
                {
                    TW.Load256(w, out var w0, out var w1, out var w2, out var w3);
                    if (TW.Scaled)
                    {
                        w0 *= Vector256.Load(scale);
                        w1 *= Vector256.Load(scale + 8);
                        w2 *= Vector256.Load(scale + 16);
                        w3 *= Vector256.Load(scale + 24);
                    }
                    w0.Store(output);
                    w1.Store(output + 8);
                    w2.Store(output + 16);
                    w3.Store(output + 24);
                }
                break;
            }
            default:
            {
                for (int k = 0; k < kLen; k++, w += stride, output += width)
                    for (int j = 0; j < width; j++)
                        output[j] = TW.Scaled ? TW.Load1(w, j) * scale[j] : TW.Load1(w, j);
                break;
            }
        }
    }
}
