using System.Runtime.CompilerServices;

namespace VallE.Runtime.Cpu;

/// <summary>
/// One Forward of a packed linear layer, split into items of (row block, group of panels) for
/// <see cref="CpuBackend"/>. An item walks its panels one at a time, each in k-chunks of <see cref="ChunkK"/>
/// (32 x 128 weights, at most 16 KiB: stays in L1 while every row tile of the block uses it), so a panel is one
/// sequential weight stream read once for all rows, and its output tile (rows x 32) stays in L1 across chunks.
/// The block's rows of x (<see cref="BlockRows"/> x In, 256 KiB-1 MiB) are re-read from L2/L3 for every panel;
/// the weights are re-read once per block of rows, from L3 or DRAM, so blocks are as tall as the scratch allows.
/// </summary>
internal unsafe struct LinearJob<TW> : IParallelJob where TW : struct, IPanelFormat
{
    /// <summary>Input features per chunk: 16 KiB of float32 panel (half of a 32 KiB L1), 8 KiB of bf16.</summary>
    internal const int ChunkK = 128;

    /// <summary>
    /// Rows per item. Every block re-streams the whole weight matrix, so for a long input (NAR over 300 frames)
    /// taller blocks mean fewer passes over weights that may not fit in L3; 16-row blocks (x in L2 for the 4096-wide
    /// FF input) measured no faster for FF-down at 256 rows. Also the height of the ragged-panel scratch tile.
    /// </summary>
    internal const int BlockRows = 64;

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
    internal KernelIsa Isa;

    [SkipLocalsInit]
    public void Execute(int index, int worker)
    {
        int rowBlock = index / PanelGroups, group = index % PanelGroups;
        int r0 = rowBlock * BlockRows, rowCount = Math.Min(BlockRows, Rows - r0);
        int p0 = group * PanelsPerItem, pEnd = Math.Min(Panels, p0 + PanelsPerItem);

        // The zero-padded last panel is computed into a scratch tile, then only the real outputs are copied out.
        const int width = PackedPanels.Width;
        float* scratch = stackalloc float[BlockRows * width];
        float* decoded = stackalloc float[ChunkK * width];
        int lastWidth = OutFeatures - (Panels - 1) * width;
        bool ownsRaggedPanel = pEnd == Panels && lastWidth != width;

        // Panel-outer: the weights are one stream (what decode wants) and the output tile stays in L1 across
        // chunks. Chunk-outer (x chunk in L1, every output tile through L2 once per chunk) measured no faster for
        // 64..256 rows on Zen 4 (noisy, shared machine); packing x per chunk is the next step if the GEMM needs it.
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
