using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace VallE.Runtime.Cpu;

/// <summary>
/// The instruction set the CPU kernels run with: a <see cref="CpuBackend"/>'s choice, the best one the machine has
/// unless a test or benchmark lowers it.
/// </summary>
public enum KernelIsa
{
    /// <summary>Plain loops: any machine (ARM runs this until it gets a Vector128 path).</summary>
    Scalar,
    /// <summary>x64 AVX2 + FMA, 256-bit vectors (16 registers).</summary>
    Avx2,
    /// <summary>x64 AVX-512 F/BW/VL, 512-bit vectors (32 registers).</summary>
    Avx512,
}

internal static class CpuKernels
{
    /// <summary>The best instruction set this process can use (a fact about the machine, never changed).</summary>
    internal static readonly KernelIsa Best = Detect();

    private static KernelIsa Detect()
    {
        // Vector512.IsHardwareAccelerated is false where the runtime judges 512-bit code slower (early AVX-512 parts).
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported && Avx512BW.IsSupported && Fma.IsSupported)
            return KernelIsa.Avx512;
        if (Avx2.IsSupported && Fma.IsSupported)
            return KernelIsa.Avx2;
        return KernelIsa.Scalar;
    }
}
