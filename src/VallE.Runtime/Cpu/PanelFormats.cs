using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace VallE.Runtime.Cpu;

/// <summary>
/// How one k-step of a packed weight panel (the <see cref="PackedPanels.Width"/> weights of consecutive output
/// features at one input feature) is stored and turned into float32 registers. The kernels are generic over this,
/// and the JIT specialises them per struct, so every format gets straight-line code with its decode in registers.
/// </summary>
internal unsafe interface IPanelFormat
{
    /// <summary>Bytes of one weight.</summary>
    static abstract int ElementBytes { get; }

    /// <summary>Whether a per-output scale multiplies the dot product (int8).</summary>
    static abstract bool Scaled { get; }

    /// <summary>The 32 weights at <paramref name="step"/> as two 16-wide vectors.</summary>
    static abstract void Load512(byte* step, out Vector512<float> w0, out Vector512<float> w1);

    /// <summary>The 32 weights at <paramref name="step"/> as four 8-wide vectors.</summary>
    static abstract void Load256(byte* step, out Vector256<float> w0, out Vector256<float> w1, out Vector256<float> w2, out Vector256<float> w3);

    /// <summary>Weight <paramref name="j"/> (0..31) of the step.</summary>
    static abstract float Load1(byte* step, int j);
}

/// <summary>float32 weights.</summary>
internal readonly unsafe struct F32Panel : IPanelFormat
{
    public static int ElementBytes => 4;
    public static bool Scaled => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load512(byte* step, out Vector512<float> w0, out Vector512<float> w1)
    {
        w0 = Vector512.Load((float*)step);
        w1 = Vector512.Load((float*)step + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load256(byte* step, out Vector256<float> w0, out Vector256<float> w1, out Vector256<float> w2, out Vector256<float> w3)
    {
        w0 = Vector256.Load((float*)step);
        w1 = Vector256.Load((float*)step + 8);
        w2 = Vector256.Load((float*)step + 16);
        w3 = Vector256.Load((float*)step + 24);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(byte* step, int j) => ((float*)step)[j];
}

/// <summary>
/// bfloat16 weights: the top 16 bits of a float32. A k-step's 32 weights are stored as 16 dwords, dword i holding
/// output i in its low half and output 16 + i in its high half, so decoding is one shift (<c>dword &lt;&lt; 16</c>:
/// outputs 0..15) and one mask (<c>dword &amp; 0xFFFF0000</c>: outputs 16..31) — no widening shuffles.
/// </summary>
internal readonly unsafe struct BF16Panel : IPanelFormat
{
    public static int ElementBytes => 2;
    public static bool Scaled => false;

    /// <summary>Where output <paramref name="j"/> (0..31) of a k-step sits among its 32 stored halves.</summary>
    internal static int Slot(int j) => j < 16 ? 2 * j : 2 * (j - 16) + 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load512(byte* step, out Vector512<float> w0, out Vector512<float> w1)
    {
        var raw = Vector512.Load((uint*)step);
        w0 = Vector512.ShiftLeft(raw, 16).AsSingle();
        w1 = (raw & Vector512.Create(0xFFFF0000u)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load256(byte* step, out Vector256<float> w0, out Vector256<float> w1, out Vector256<float> w2, out Vector256<float> w3)
    {
        var first = Vector256.Load((uint*)step);         // outputs 0..7 | 16..23
        var second = Vector256.Load((uint*)step + 8);    // outputs 8..15 | 24..31
        var high = Vector256.Create(0xFFFF0000u);
        w0 = Vector256.ShiftLeft(first, 16).AsSingle();
        w1 = Vector256.ShiftLeft(second, 16).AsSingle();
        w2 = (first & high).AsSingle();
        w3 = (second & high).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(byte* step, int j) => BitConverter.Int32BitsToSingle(((ushort*)step)[Slot(j)] << 16);
}

/// <summary>int8 weights; the per-output scale is applied once, after the dot product.</summary>
internal readonly unsafe struct Int8Panel : IPanelFormat
{
    public static int ElementBytes => 1;
    public static bool Scaled => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load512(byte* step, out Vector512<float> w0, out Vector512<float> w1)
    {
        // vpmovsxbd: 16 sign-extended bytes -> 16 int32, then vcvtdq2ps (exact: |q| <= 127).
        w0 = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)step)));
        w1 = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)step + 16)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load256(byte* step, out Vector256<float> w0, out Vector256<float> w1, out Vector256<float> w2, out Vector256<float> w3)
    {
        w0 = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32((sbyte*)step));
        w1 = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32((sbyte*)step + 8));
        w2 = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32((sbyte*)step + 16));
        w3 = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32((sbyte*)step + 24));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(byte* step, int j) => ((sbyte*)step)[j];
}
