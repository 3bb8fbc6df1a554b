namespace VallE.Runtime.Cpu;

/// <summary>
/// A linear layer packed in <see cref="PackedPanels"/> layout with weights in format <typeparamref name="TW"/>.
/// Forward splits the output panels (and, for long inputs, row blocks) across a <see cref="CpuBackend"/>'s threads.
/// </summary>
internal sealed unsafe class PackedLinear<TW> : LinearWeights where TW : struct, IPanelFormat
{
    /// <summary>Below this many multiply-adds a forward is cheaper on one thread than dispatching to the pool.</summary>
    private const long ParallelThreshold = 1 << 16;

    private readonly AlignedBuffer _weights;
    private readonly AlignedBuffer _bias;    // float[panels * 32], zero-padded (zeros when the layer has no bias)
    private readonly AlignedBuffer _scale;   // float[panels * 32], int8 only (zeros otherwise, never read)
    private readonly int _panels;

    internal PackedLinear(AlignedBuffer weights, ReadOnlySpan<float> bias, ReadOnlySpan<float> scale,
        int outFeatures, int inFeatures, WeightsDType dtype)
        : base(outFeatures, inFeatures, dtype)
    {
        _panels = PackedPanels.PanelCount(outFeatures);
        _weights = weights;
        _bias = new AlignedBuffer((long)_panels * PackedPanels.Width * sizeof(float));
        bias.CopyTo(_bias.AsSpan<float>());
        _scale = new AlignedBuffer((long)_panels * PackedPanels.Width * sizeof(float));
        if (TW.Scaled) scale.CopyTo(_scale.AsSpan<float>());
    }

    public override long WeightBytes => _weights.Length + (TW.Scaled ? (long)OutFeatures * sizeof(float) : 0);

    public override void Forward(CpuBackend backend, ReadOnlySpan<float> x, int rows, Span<float> y)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (rows < 0) throw new ArgumentOutOfRangeException(nameof(rows), rows, "rows must not be negative");
        if (x.Length < (long)rows * InFeatures)
            throw new ArgumentException($"x has {x.Length} elements, {rows} rows need {(long)rows * InFeatures}", nameof(x));
        if (y.Length < (long)rows * OutFeatures)
            throw new ArgumentException($"y has {y.Length} elements, {rows} rows need {(long)rows * OutFeatures}", nameof(y));
        if (rows == 0) return;
        if (x[..(rows * InFeatures)].Overlaps(y[..(rows * OutFeatures)]))
            throw new ArgumentException("x and y overlap; Forward cannot work in place", nameof(y));
        if (InFeatures == 0)
        {
            for (int r = 0; r < rows; r++)
                _bias.AsSpan<float>()[..OutFeatures].CopyTo(y.Slice(r * OutFeatures, OutFeatures));
            return;
        }

        fixed (float* xp = x, yp = y)
        {
            int rowBlocks = (rows + LinearJob<TW>.BlockRows - 1) / LinearJob<TW>.BlockRows;
            long work = (long)rows * OutFeatures * InFeatures;
            int threads = work < ParallelThreshold ? 1 : backend.Threads;
            // About four items per thread keeps threads busy when one is slow (a shared or throttled core).
            int targetItems = threads == 1 ? 1 : threads * 4;
            int panelsPerItem = Math.Max(1, (int)Math.Min(_panels, ((long)_panels * rowBlocks + targetItems - 1) / targetItems));
            int panelGroups = (_panels + panelsPerItem - 1) / panelsPerItem;
            var job = new LinearJob<TW>
            {
                Weights = _weights.Pointer,
                Bias = (float*)_bias.Pointer,
                Scale = (float*)_scale.Pointer,
                X = xp,
                Y = yp,
                Rows = rows,
                InFeatures = InFeatures,
                OutFeatures = OutFeatures,
                Panels = _panels,
                PanelsPerItem = panelsPerItem,
                PanelGroups = panelGroups,
                Isa = backend.Isa,
            };
            int items = rowBlocks * panelGroups;
            if (threads == 1)
                for (int i = 0; i < items; i++) job.Execute(i, 0);
            else
                backend.For(items, ref job);
        }
    }

    /// <summary>The weights as the kernels see them ([Out, In], dequantised): tests compare against this.</summary>
    internal float[] Dequantized()
    {
        var result = new float[(long)OutFeatures * InFeatures];
        var scales = _scale.AsSpan<float>();
        for (int o = 0; o < OutFeatures; o++)
        {
            for (int k = 0; k < InFeatures; k++)
            {
                long step = ((long)(o / PackedPanels.Width) * InFeatures + k) * PackedPanels.Width;
                float w = TW.Load1(_weights.Pointer + step * TW.ElementBytes, o % PackedPanels.Width);
                result[(long)o * InFeatures + k] = TW.Scaled ? w * scales[o] : w;
            }
        }
        return result;
    }
}
