namespace VallE.Runtime.Cuda.Model;

/// <summary>
/// One upstream TransformerEncoder (the AR or the NAR decoder) resident on the GPU: per layer torch-style
/// MultiheadAttention with packed q/k/v, a ReLU feed-forward block, LayerNorm or AdaLN (NAR stages), pre- or
/// post-norm, and the final norm of pre-norm stacks. fp32 weights and activations; cuBLAS gemms without bias, the
/// biases fused into the following kernel:
/// <code>
/// pre-norm : h = N1(x); qkv = h·Winᵀ + b; a = attn(qkv); x += a·Woutᵀ + bout; h = N2(x)      (one fused kernel)
///            f = relu(h·W1ᵀ + b1)·W2ᵀ; x += f + b2; h = N1'(x) of the next layer or the final norm (fused)
/// post-norm: x = N1(x + a·Woutᵀ + bout); x = N2(x + f + b2)
/// </code>
/// The KV cache holds, per layer, K and V of [batch, capacity, dim]; the AR prefill writes it and each decode step
/// appends one row per sequence at a device-side position. Buffers are allocated once for <c>maxRows</c> rows, so
/// a forward never allocates and a decode step can be captured into a CUDA graph.
/// </summary>
public sealed class CudaDecoderStack : IDisposable
{
    private readonly CudaDevice _d;
    private readonly Layer[] _layers;
    private readonly Norm? _final;
    private readonly List<CudaBuffer> _owned = [];
    private readonly CudaBuffer _normed, _qkv, _attn, _proj, _hidden, _partials;
    private readonly CudaBuffer[] _k, _v;

    public int Dim { get; }
    public int Heads { get; }
    public int HeadDim => Dim / Heads;
    public int FeedForward { get; }
    public bool NormFirst { get; }
    public float Eps { get; }
    /// <summary>AdaLN stages (NAR: num_quantizers - 1); 0 for plain LayerNorm stacks.</summary>
    public int Stages { get; }
    public int MaxRows { get; }
    public int Batch { get; }
    public int KvCapacity { get; }


    private sealed record Norm(CudaBuffer Gamma, CudaBuffer Beta, CudaBuffer[]? Ada);

    private sealed record Layer(CudaBuffer InW, CudaBuffer InB, CudaBuffer OutW, CudaBuffer OutB, CudaBuffer W1, CudaBuffer B1,
        CudaBuffer W2, CudaBuffer B2, Norm Norm1, Norm Norm2);

    /// <summary>
    /// Uploads <c>{prefix}.layers.{i}.*</c> (and <c>{prefix}.norm.*</c> for pre-norm stacks). With
    /// <paramref name="stageEmbeddings"/> (NAR) every norm is AdaptiveLayerNorm: its project_layer applied to each
    /// stage embedding once here (<see cref="Models.StageProjection"/>, the CPU engine's exact values), giving a
    /// [scale | shift] pair per stage.
    /// <paramref name="kvCapacity"/> 0 allocates no cache (NAR).
    /// </summary>
    public CudaDecoderStack(CudaDevice device, ICudaWeightSource weights, string prefix, int layers, int dim, int heads,
        int feedForward, bool normFirst, float eps, float[][]? stageEmbeddings, int maxRows, int batch, int kvCapacity)
    {
        if (heads <= 0 || dim % heads != 0 || dim / heads > 128)
            throw new InvalidInputException($"{prefix}: {heads} heads of width {dim} are not supported on CUDA (head dim must divide and be <= 128)");
        _d = device;
        Dim = dim;
        Heads = heads;
        FeedForward = feedForward;
        NormFirst = normFirst;
        Eps = eps;
        Stages = stageEmbeddings?.Length ?? 0;
        MaxRows = maxRows;
        Batch = batch;
        KvCapacity = kvCapacity;
        try
        {
            _layers = new Layer[layers];
            for (int l = 0; l < layers; l++)
            {
                string p = $"{prefix}.layers.{l}";
                _layers[l] = new Layer(
                    Up(weights.Floats(p + ".self_attn.in_proj_weight", 3 * dim, dim)), Up(weights.Floats(p + ".self_attn.in_proj_bias", 3 * dim)),
                    Up(weights.Floats(p + ".self_attn.out_proj.weight", dim, dim)), Up(weights.Floats(p + ".self_attn.out_proj.bias", dim)),
                    Up(weights.Floats(p + ".linear1.weight", feedForward, dim)), Up(weights.Floats(p + ".linear1.bias", feedForward)),
                    Up(weights.Floats(p + ".linear2.weight", dim, feedForward)), Up(weights.Floats(p + ".linear2.bias", dim)),
                    LoadNorm(weights, p + ".norm1", stageEmbeddings), LoadNorm(weights, p + ".norm2", stageEmbeddings));
            }
            _final = normFirst ? LoadNorm(weights, prefix + ".norm", stageEmbeddings) : null;

            int rows = Math.Max(maxRows, batch);
            _normed = Own(device.Allocate<float>((long)rows * dim));
            _qkv = Own(device.Allocate<float>((long)rows * 3 * dim));
            _attn = Own(device.Allocate<float>((long)rows * dim));
            _proj = Own(device.Allocate<float>((long)rows * dim));
            _hidden = Own(device.Allocate<float>((long)rows * feedForward));
            _partials = Own(device.Allocate<float>(Math.Max(1, kvCapacity > 0 ? CudaKernels.AttentionDecodePartialsFloats(batch, heads, HeadDim, kvCapacity) : 1)));
            _k = new CudaBuffer[kvCapacity > 0 ? layers : 0];
            _v = new CudaBuffer[_k.Length];
            for (int l = 0; l < _k.Length; l++)
            {
                _k[l] = Own(device.Allocate<float>((long)batch * kvCapacity * dim));
                _v[l] = Own(device.Allocate<float>((long)batch * kvCapacity * dim));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Device bytes of the weights of a stack of these sizes (for <see cref="CudaMemoryPlan"/>).</summary>
    public static long WeightBytes(int layers, int dim, int feedForward, int stages) =>
        4L * layers * (3L * dim * dim + 3 * dim + (long)dim * dim + dim + 2L * feedForward * dim + feedForward + dim
                       + 2 * NormFloats(dim, stages)) + 4L * NormFloats(dim, stages);

    private static long NormFloats(int dim, int stages) => 2L * dim + 2L * dim * stages;

    private CudaBuffer Own(CudaBuffer b)
    {
        _owned.Add(b);
        return b;
    }

    private CudaBuffer Up(float[] values) => Own(_d.Upload<float>(values));

    private Norm LoadNorm(ICudaWeightSource w, string module, float[][]? stages)
    {
        if (stages is null) return new Norm(Up(w.Floats(module + ".weight", Dim)), Up(w.Floats(module + ".bias", Dim)), null);
        using var cpu = new Cpu.CpuBackend(threads: 1);   // one small product per stage, at load
        float[][] both = Models.StageProjection.Compute(cpu, w.Floats(module + ".project_layer.weight", 2 * Dim, Dim),
            w.Floats(module + ".project_layer.bias", 2 * Dim), Dim, stages);
        var ada = new CudaBuffer[stages.Length];
        for (int s = 0; s < stages.Length; s++) ada[s] = Up(both[s]);
        return new Norm(Up(w.Floats(module + ".norm.weight", Dim)), Up(w.Floats(module + ".norm.bias", Dim)), ada);
    }

    /// <summary>
    /// Full forward of <paramref name="rows"/> positions of ONE sequence held in <paramref name="x"/> (the residual
    /// stream, [rows, dim] fp32, updated in place), as the AR prefill (<paramref name="causal"/>: the VALL-E mask
    /// with <paramref name="textLength"/> text positions; K/V also written to the cache of sequence
    /// <paramref name="sequence"/> at positions 0..rows-1) or the NAR (unmasked, <paramref name="stage"/> picks the
    /// AdaLN stage). Returns the output rows ([rows, dim]): the final norm's output in a stack buffer for pre-norm
    /// stacks, <paramref name="x"/> itself for post-norm ones (valid until the next call).
    /// </summary>
    public nint Forward(nint x, int rows, int textLength, bool causal, int stage = 0, int sequence = 0)
    {
        if (rows <= 0 || rows > MaxRows) throw new ArgumentOutOfRangeException(nameof(rows), $"{rows} rows, the stack holds {MaxRows}");
        if (_k.Length > 0 && rows > KvCapacity) throw new ArgumentOutOfRangeException(nameof(rows), $"{rows} rows exceed the KV cache ({KvCapacity})");
        CheckStage(stage);
        int d = Dim;
        float scale = 1f / MathF.Sqrt(HeadDim);
        for (int l = 0; l < _layers.Length; l++)
        {
            BeginAttention(x, l, rows, stage);
            if (_k.Length > 0)
            {
                CudaKernels.KvAppend(_d, _qkv.At<float>(d), _qkv.At<float>(2 * d), 3 * d, 0, CudaDType.F32,
                    _k[l].At<float>((long)sequence * KvCapacity * d), _v[l].At<float>((long)sequence * KvCapacity * d), KvCapacity, 1, rows, d, 0, 0);
            }
            // Keys and values straight from the fused projection: the whole sequence is in this call.
            CudaKernels.AttentionPrefill(_d, CudaDType.F32, _qkv.Pointer, 3 * d, 0, _qkv.At<float>(d), _qkv.At<float>(2 * d), 3 * d, 0,
                _attn.Pointer, d, 0, 1, rows, rows, Heads, HeadDim, 0, textLength, causal, scale);
            FinishLayer(x, l, rows, stage);
        }
        return NormFirst ? _normed.Pointer : x;
    }

    /// <summary>
    /// One AR decode step for <see cref="Batch"/> sequences: <paramref name="x"/> holds one new row per sequence
    /// ([batch, dim], updated in place); its K/V go to cache row <c>positions[b]</c> (device int32[batch]) and it
    /// attends to <c>lengths[b]</c> (device int32[batch], = positions + 1) cached keys. Only enqueues work with
    /// fixed arguments, so it can be captured into a <see cref="CudaGraph"/>. Returns the output rows as
    /// <see cref="Forward"/> does.
    /// </summary>
    public nint DecodeStep(nint x, nint positions, nint lengths)
    {
        if (_k.Length == 0) throw new InvalidOperationException("this stack has no KV cache");
        int d = Dim, rows = Batch;
        float scale = 1f / MathF.Sqrt(HeadDim);
        for (int l = 0; l < _layers.Length; l++)
        {
            BeginAttention(x, l, rows, 0);
            CudaKernels.KvAppend(_d, _qkv.At<float>(d), _qkv.At<float>(2 * d), 3 * d, 3L * d, CudaDType.F32, _k[l].Pointer, _v[l].Pointer,
                KvCapacity, rows, 1, d, 0, positions);
            CudaKernels.AttentionDecode(_d, CudaDType.F32, _qkv.Pointer, 3 * d, CudaDType.F32, _k[l].Pointer, _v[l].Pointer, KvCapacity,
                KvCapacity, lengths, _attn.Pointer, d, rows, Heads, HeadDim, scale, _partials.Pointer);
            FinishLayer(x, l, rows, 0);
        }
        return NormFirst ? _normed.Pointer : x;
    }

    // Norm before attention (pre-norm: from the previous layer's fused kernel, except layer 0), then q/k/v + bias.
    private void BeginAttention(nint x, int l, int rows, int stage)
    {
        var L = _layers[l];
        int d = Dim;
        nint h = x;
        if (NormFirst)
        {
            if (l == 0) ApplyNorm(L.Norm1, x, 0, 0, _normed.Pointer, rows, stage);
            h = _normed.Pointer; // layers > 0: written by the previous layer's last fused add + norm
        }
        CudaBlas.LinearF32(_d, h, L.InW.Pointer, _qkv.Pointer, rows, d, 3 * d);
        CudaKernels.BiasAct(_d, CudaDType.F32, _qkv.Pointer, L.InB.Pointer, _qkv.Pointer, rows, 3 * d, relu: false);
    }

    // out_proj, residual + norm2, feed-forward, residual + the next norm (fused pairs where pre-norm allows).
    private void FinishLayer(nint x, int l, int rows, int stage)
    {
        var L = _layers[l];
        int d = Dim, ff = FeedForward;
        CudaBlas.LinearF32(_d, _attn.Pointer, L.OutW.Pointer, _proj.Pointer, rows, d, d);
        nint h;
        if (NormFirst)
        {
            ApplyNorm(L.Norm2, x, _proj.Pointer, L.OutB.Pointer, _normed.Pointer, rows, stage);
            h = _normed.Pointer;
        }
        else
        {
            CudaKernels.AddResidual(_d, x, _proj.Pointer, L.OutB.Pointer, rows, d);
            ApplyNorm(L.Norm1, x, 0, 0, x, rows, stage);
            h = x;
        }
        CudaBlas.LinearF32(_d, h, L.W1.Pointer, _hidden.Pointer, rows, d, ff);
        CudaKernels.BiasAct(_d, CudaDType.F32, _hidden.Pointer, L.B1.Pointer, _hidden.Pointer, rows, ff, relu: true);
        CudaBlas.LinearF32(_d, _hidden.Pointer, L.W2.Pointer, _proj.Pointer, rows, ff, d);
        if (NormFirst)
        {
            // The residual add of this layer fused with the first norm of the next layer (or the final norm).
            Norm next = l + 1 < _layers.Length ? _layers[l + 1].Norm1 : _final!;
            ApplyNorm(next, x, _proj.Pointer, L.B2.Pointer, _normed.Pointer, rows, stage);
        }
        else
        {
            CudaKernels.AddResidual(_d, x, _proj.Pointer, L.B2.Pointer, rows, d);
            ApplyNorm(L.Norm2, x, 0, 0, x, rows, stage);
        }
    }

    private void ApplyNorm(Norm n, nint x, nint delta, nint deltaBias, nint y, int rows, int stage)
    {
        nint scale = 0, shift = 0;
        if (n.Ada is { } ada)
        {
            scale = ada[stage].Pointer;
            shift = ada[stage].At<float>(Dim);
        }
        CudaKernels.AddLayerNorm(_d, x, delta, deltaBias, n.Gamma.Pointer, n.Beta.Pointer, scale, shift, Eps, CudaDType.F32, y, rows, Dim);
    }

    private void CheckStage(int stage)
    {
        if (Stages == 0 ? stage != 0 : stage < 0 || stage >= Stages)
            throw new ArgumentOutOfRangeException(nameof(stage), $"stage {stage}; this stack has {Stages} AdaLN stages");
    }

    public void Dispose()
    {
        foreach (var b in _owned) b.Dispose();
        _owned.Clear();
    }
}
