using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace VallE.Runtime.Cpu;

/// <summary>The instruction set a CPU kernel runs with; the best one the machine has unless a test lowers it.</summary>
internal enum KernelIsa
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
    /// <summary>The best instruction set this process can use.</summary>
    internal static readonly KernelIsa Best = Detect();

    private static KernelIsa _active = Best;

    /// <summary>
    /// What the kernels use now. Tests lower it to check the AVX2 and scalar paths on an AVX-512 machine; it cannot
    /// be raised above <see cref="Best"/>.
    /// </summary>
    internal static KernelIsa Active
    {
        get => _active;
        set => _active = value > Best ? throw new PlatformNotSupportedException($"{value} is not available on this CPU") : value;
    }

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
