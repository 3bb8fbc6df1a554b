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

    /// <summary>x: [rows, InFeatures] row-major; y: [rows, OutFeatures] row-major (overwritten).</summary>
    public abstract void Forward(ReadOnlySpan<float> x, int rows, Span<float> y);

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
        return new NaiveLinear(weight.ToArray(), bias.IsEmpty ? null : bias.ToArray(), outFeatures, inFeatures);
    }

    /// <summary>Placeholder reference implementation (replaced by the packed SIMD kernels).</summary>
    private sealed class NaiveLinear(float[] w, float[]? b, int outF, int inF) : LinearWeights(outF, inF, WeightsDType.F32)
    {
        public override long WeightBytes => (long)w.Length * 4;

        public override void Forward(ReadOnlySpan<float> x, int rows, Span<float> y)
        {
            for (int r = 0; r < rows; r++)
            {
                var xr = x.Slice(r * InFeatures, InFeatures);
                for (int o = 0; o < OutFeatures; o++)
                    y[r * OutFeatures + o] = System.Numerics.Tensors.TensorPrimitives.Dot(xr, w.AsSpan(o * InFeatures, InFeatures)) + (b?[o] ?? 0f);
            }
        }
    }
}
