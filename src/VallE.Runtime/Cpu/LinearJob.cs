using System.Runtime.CompilerServices;

namespace VallE.Runtime.Cpu;

/// <summary>
/// One Forward of a packed linear layer, split into items of (row block, group of panels) for
/// <see cref="CpuParallel"/>. Within an item the input is walked in k-chunks of <see cref="ChunkK"/>, so a panel
/// chunk (32 x 256 weights, at most 32 KiB) stays in L1 while every row tile of the block uses it, and the rows' input
/// chunk stays in L2 while it meets every panel.
/// </summary>
internal unsafe struct LinearJob<TW> : IParallelJob where TW : struct, IPanelFormat
{
    /// <summary>Input features per chunk: 32 KiB of float32 panel, half that for bf16.</summary>
    internal const int ChunkK = 256;

    /// <summary>Rows per item: an input chunk of 64 x 256 floats (64 KiB) sits in L2 beside the panel chunk.</summary>
    internal const int BlockRows = 64;

    /// <summary>Up to this many rows (a decode step), each panel is streamed once start to end before the next one.</summary>
    private const int StreamingRows = 16;

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

        if (rowCount <= StreamingRows)
        {
            for (int p = p0; p < pEnd; p++)
                for (int k0 = 0; k0 < InFeatures; k0 += ChunkK)
                    RunChunk(p, k0, r0, rowCount, scratch, decoded);
        }
        else
        {
            for (int k0 = 0; k0 < InFeatures; k0 += ChunkK)
                for (int p = p0; p < pEnd; p++)
                    RunChunk(p, k0, r0, rowCount, scratch, decoded);
        }

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
