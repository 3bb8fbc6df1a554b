using System.Runtime.CompilerServices;

namespace VallE.Runtime.Cpu;

/// <summary>
/// One Forward of a packed linear layer, split into items of (row block, group of panels) for
/// <see cref="CpuParallel"/>. An item walks its panels one at a time, each in k-chunks of <see cref="ChunkK"/>
/// (32 x 128 weights, at most 16 KiB: stays in L1 while every row tile of the block uses it), so a panel is one
/// sequential weight stream read once for all rows, and its output tile (rows x 32) stays in L1 across chunks.
/// The block's rows of x (<see cref="BlockRows"/> x In) are re-read from L2 for every panel, so a block is sized to
/// fit there (see <see cref="RowsPerBlock"/>).
/// </summary>
internal unsafe struct LinearJob<TW> : IParallelJob where TW : struct, IPanelFormat
{
    /// <summary>Input features per chunk: 16 KiB of float32 panel (half of a 32 KiB L1), 8 KiB of bf16.</summary>
    internal const int ChunkK = 128;

    /// <summary>Most rows per item (the ragged-panel scratch tile is sized for it).</summary>
    internal const int MaxBlockRows = 64;

    /// <summary>Bytes of x rows an item keeps re-reading from L2 (a quarter of a 1 MiB L2, leaving room for the
    /// weight stream and the outputs).</summary>
    private const int BlockInputBytes = 256 << 10;

    /// <summary>
    /// From this many rows a bf16/int8 panel chunk is decoded to float32 once (into L1-resident scratch) and then
    /// run through the float32 kernel, instead of being decoded again for every row tile: for long inputs the
    /// decode would otherwise cost a third of the arithmetic.
    /// </summary>
    private const int DecodeOnceRows = 8;

    internal byte* Weights;
    internal float* Bias;
    internal float* Scale;
    internal float* X;
    internal float* Y;
    internal int Rows;
    internal int InFeatures;
    internal int OutFeatures;
    internal int Panels;
    internal int PanelsPerItem;
    internal int PanelGroups;
    internal int BlockRows;
    internal KernelIsa Isa;

    /// <summary>Rows per item for this input width: a multiple of 4 (the AVX-512 row tile), 16..64.</summary>
    internal static int RowsPerBlock(int inFeatures) =>
        Math.Clamp(BlockInputBytes / (Math.Max(1, inFeatures) * sizeof(float)) / 4 * 4, 16, MaxBlockRows);

    [SkipLocalsInit]
    public void Execute(int index, int worker)
    {
        int rowBlock = index / PanelGroups, group = index % PanelGroups;
        int r0 = rowBlock * BlockRows, rowCount = Math.Min(BlockRows, Rows - r0);
        int p0 = group * PanelsPerItem, pEnd = Math.Min(Panels, p0 + PanelsPerItem);

        // The zero-padded last panel is computed into a scratch tile, then only the real outputs are copied out.
        const int width = PackedPanels.Width;
        float* scratch = stackalloc float[MaxBlockRows * width];
        float* decoded = stackalloc float[ChunkK * width];
        int lastWidth = OutFeatures - (Panels - 1) * width;
        bool ownsRaggedPanel = pEnd == Panels && lastWidth != width;

        // Panel-outer: measured faster than chunk-outer (which keeps x in L1 but streams every output tile
        // through L2 once per chunk) for 64..256 rows on Zen 4, and it is the pure weight stream decode wants.
        for (int p = p0; p < pEnd; p++)
            for (int k0 = 0; k0 < InFeatures; k0 += ChunkK)
                RunChunk(p, k0, r0, rowCount, scratch, decoded);

        if (ownsRaggedPanel)
        {
            for (int r = 0; r < rowCount; r++)
                new ReadOnlySpan<float>(scratch + r * width, lastWidth)
                    .CopyTo(new Span<float>(Y + (long)(r0 + r) * OutFeatures + (Panels - 1) * width, lastWidth));
        }
    }

    private void RunChunk(int panel, int k0, int r0, int rowCount, float* scratch, float* decoded)
    {
        const int width = PackedPanels.Width;
        int kLen = Math.Min(ChunkK, InFeatures - k0);
        byte* w = Weights + ((long)panel * InFeatures + k0) * width * TW.ElementBytes;
        float* bias = Bias + panel * width;
        float* scale = Scale + panel * width;
        bool accumulate = k0 > 0;
        bool ragged = panel == Panels - 1 && OutFeatures % width != 0;
        float* c = ragged ? scratch : Y + (long)r0 * OutFeatures + panel * width;
        int ldc = ragged ? width : OutFeatures;
        float* x = X + (long)r0 * InFeatures + k0;
        int ldx = InFeatures;

        if (typeof(TW) != typeof(F32Panel) && rowCount >= DecodeOnceRows)
        {
            PanelDecoder.ToF32<TW>(w, kLen, scale, decoded, Isa);
            RunRows<F32Panel>((byte*)decoded, kLen, x, ldx, c, ldc, bias, scale, accumulate, rowCount, Isa);
        }
        else
        {
            RunRows<TW>(w, kLen, x, ldx, c, ldc, bias, scale, accumulate, rowCount, Isa);
        }
    }

    private static void RunRows<TF>(byte* w, int kLen, float* x, int ldx, float* c, int ldc, float* bias, float* scale,
        bool accumulate, int rowCount, KernelIsa isa) where TF : struct, IPanelFormat
    {
        int r = 0;
        switch (isa)
        {
            case KernelIsa.Avx512:
                for (; r + 4 <= rowCount; r += 4)
                    Avx512Kernels.Rows4<TF>(w, kLen, x + (long)r * ldx, ldx, c + (long)r * ldc, ldc, bias, scale, accumulate);
                for (; r < rowCount; r++)
                    Avx512Kernels.Rows1<TF>(w, kLen, x + (long)r * ldx, c + (long)r * ldc, bias, scale, accumulate);
                break;
            case KernelIsa.Avx2:
                for (; r + 2 <= rowCount; r += 2)
                    Avx2Kernels.Rows2<TF>(w, kLen, x + (long)r * ldx, ldx, c + (long)r * ldc, ldc, bias, scale, accumulate);
                for (; r < rowCount; r++)
                    Avx2Kernels.Rows1<TF>(w, kLen, x + (long)r * ldx, c + (long)r * ldc, bias, scale, accumulate);
                break;
            default:
                for (; r < rowCount; r++)
                    ScalarKernels.Rows1<TF>(w, kLen, x + (long)r * ldx, c + (long)r * ldc, bias, scale, accumulate);
                break;
        }
    }
}
