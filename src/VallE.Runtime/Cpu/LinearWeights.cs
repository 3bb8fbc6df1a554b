namespace VallE.Runtime.Cpu;

/// <summary>How a linear layer's weight matrix is stored for the CPU kernels.</summary>
public enum WeightsDType
{
    /// <summary>float32, the reference path.</summary>
    F32,
    /// <summary>bfloat16 weights, float32 activations and accumulation.</summary>
    BF16,
    /// <summary>int8 weights with one float32 scale per output row (weight-only), float32 activations.</summary>
    Int8,
}

/// <summary>
/// A linear layer <c>y[rows, Out] = x[rows, In] · Wᵀ + b</c> with its weights packed at load time for the CPU
/// kernels. <c>rows</c> is 1..B for a decode step (one row per utterance in the batch) and the sequence length for a
/// prefill or the NAR. Forward never allocates.
/// </summary>
public abstract class LinearWeights
{
    public int OutFeatures { get; }
    public int InFeatures { get; }
    public WeightsDType DType { get; }

    protected LinearWeights(int outFeatures, int inFeatures, WeightsDType dtype)
    {
        OutFeatures = outFeatures;
        InFeatures = inFeatures;
        DType = dtype;
    }

    /// <summary>Bytes of weights (and scales) one Forward reads: the floor of a memory-bound decode step.</summary>
    public abstract long WeightBytes { get; }

    /// <summary>
    /// x: [rows, InFeatures] row-major; y: [rows, OutFeatures] row-major (overwritten). Runs on
    /// <paramref name="backend"/>'s threads with its instruction set.
    /// </summary>
    public abstract void Forward(CpuBackend backend, ReadOnlySpan<float> x, int rows, Span<float> y);

    /// <summary>
    /// Packs <paramref name="weight"/> ([outFeatures, inFeatures], row-major, as PyTorch stores nn.Linear) and the
    /// optional <paramref name="bias"/> (empty span: no bias) into the layout of <paramref name="dtype"/>.
    /// </summary>
    public static LinearWeights Create(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outFeatures, int inFeatures,
        WeightsDType dtype = WeightsDType.F32)
    {
        if (weight.Length != (long)outFeatures * inFeatures)
            throw new ArgumentException($"weight has {weight.Length} elements, expected {outFeatures}x{inFeatures}");
        if (!bias.IsEmpty && bias.Length != outFeatures)
            throw new ArgumentException($"bias has {bias.Length} elements, expected {outFeatures}");
        if (outFeatures < 1 || inFeatures < 0)
            throw new ArgumentException($"a linear layer needs outFeatures >= 1 and inFeatures >= 0, got {outFeatures}x{inFeatures}");

        // The panels pad the outputs to a multiple of 32; bias and int8 scales are padded to match (with zeros).
        int padded = PackedPanels.PanelCount(outFeatures) * PackedPanels.Width;
        var paddedBias = new float[padded];
        bias.CopyTo(paddedBias);
        switch (dtype)
        {
            case WeightsDType.F32:
                return new PackedLinear<F32Panel>(PackedPanels.PackF32(weight, outFeatures, inFeatures), paddedBias, default,
                    outFeatures, inFeatures, dtype);
            case WeightsDType.BF16:
                return new PackedLinear<BF16Panel>(PackedPanels.PackBF16(weight, outFeatures, inFeatures), paddedBias, default,
                    outFeatures, inFeatures, dtype);
            case WeightsDType.Int8:
                var scales = new float[padded];
                var packed = PackedPanels.PackInt8(weight, outFeatures, inFeatures, scales);
                return new PackedLinear<Int8Panel>(packed, paddedBias, scales, outFeatures, inFeatures, dtype);
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown weights dtype");
        }
    }
}
