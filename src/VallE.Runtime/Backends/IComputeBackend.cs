using VallE.Runtime.Cpu;
using VallE.Runtime.Sampling;

namespace VallE.Runtime.Backends;

/// <summary>The operations of <see cref="IComputeBackend"/>, for <see cref="IComputeBackend.Supports"/>.</summary>
public enum OpKind
{
    GatherSum,
    AddPositions,
    Linear,
    Add,
    Norm,
    Conv,
    Copy,
    Attention,
    AttentionDecode,
    ArgMax,
    Sample,
    Increment,
    /// <summary>LLaMA RMSNorm (e-c-k-e-r/vall-e).</summary>
    RmsNorm,
    /// <summary>Rotary position embedding of the q and k columns of a packed qkv (rotate_half style).</summary>
    Rope,
    /// <summary>Gated MLP activation <c>gelu(gate) · up</c> with the exact (erf) GELU.</summary>
    GatedGelu,
}

/// <summary>Activation fused after a linear layer's bias.</summary>
public enum Activation
{
    None,
    Relu,
}

/// <summary>
/// What a model needs of an operation: its kind and, where it matters, the weight type, head size or vocabulary.
/// </summary>
public readonly record struct OpRequirement(OpKind Op, WeightsDType DType = WeightsDType.F32, int HeadDim = 0, int Vocab = 0)
{
    public override string ToString() => Op switch
    {
        OpKind.Linear => $"linear with {DType} weights",
        OpKind.Attention or OpKind.AttentionDecode => $"{Op} with head size {HeadDim}",
        OpKind.Sample or OpKind.ArgMax => $"{Op} over {Vocab} tokens",
        _ => Op.ToString(),
    };
}

/// <summary>
/// The operations the VALL-E model (<see cref="Models.ValleModel"/>) is written over, in the spirit of
/// ggml-backend: a backend owns memory (tensors, weights, caches, samplers) and implements operations; it holds no
/// model logic. Implementations: <see cref="Cpu.CpuComputeBackend"/> (the reference: SIMD kernels on a worker pool)
/// and <see cref="Cuda.CudaComputeBackend"/> (kernels + cuBLAS on one stream; the AR step recorded as a CUDA graph).
/// <para>
/// All float arithmetic is float32. Ops only enqueue work on device backends; <see cref="Read(TensorRows, Span{int})"/>
/// is the one point where the host waits for the device. A backend is used by one thread at a time.
/// </para>
/// Shapes: an op's tensors are <see cref="TensorRows"/> views; the row counts of its inputs and outputs must agree and
/// the widths must match the weights, or the op throws <see cref="ArgumentException"/> (a bug in the model, not bad input).
/// </summary>
public interface IComputeBackend : IDisposable
{
    /// <summary>"cpu" or "cuda".</summary>
    string Name { get; }

    /// <summary>Whether this backend runs <paramref name="requirement"/>; if not, <paramref name="reason"/> says why.</summary>
    bool Supports(OpRequirement requirement, out string reason);

    // ---- memory --------------------------------------------------------------------------------------------

    Tensor Allocate(TensorType type, int rows, int cols);
    /// <summary>Copies host values into <paramref name="destination"/> (row-major; exactly its element count).</summary>
    void Write(TensorRows destination, ReadOnlySpan<float> values);
    void Write(TensorRows destination, ReadOnlySpan<int> values);
    /// <summary>Copies <paramref name="source"/> to the host, after every op enqueued before it has finished.</summary>
    void Read(TensorRows source, Span<float> values);
    void Read(TensorRows source, Span<int> values);

    // ---- weights and state ---------------------------------------------------------------------------------

    DeviceTable CreateTable(string name, ReadOnlySpan<float> values, int rows, int dim);
    /// <param name="bias">empty: no bias.</param>
    DeviceLinear CreateLinear(string name, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outFeatures, int inFeatures, WeightsDType dtype);
    /// <param name="stageScaleShift">AdaLN: per stage, <c>2 · dim</c> values (scale then shift); null for LayerNorm.</param>
    DeviceNorm CreateNorm(string name, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float eps, float[][]? stageScaleShift);
    /// <param name="weight">Conv1d weight <c>[dim, dim, kernel]</c>.</param>
    DeviceConv CreateConv(string name, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> bnScale,
        ReadOnlySpan<float> bnShift, int dim, int kernel);
    DevicePositions CreatePositions(string name, int dim, float alpha);
    DeviceKvCache CreateKvCache(string name, int slots, int layers, int capacity, int dim, bool keepsHistory);
    /// <param name="historyCapacity">tokens of repetition history kept per slot: each slot's history starts empty and
    /// holds the tokens it samples (upstream penalises generated tokens only); the penalty window reads its last
    /// <c>RepetitionWindow</c> entries, so a capacity of the most tokens a sequence may generate loses nothing.</param>
    DeviceSamplers CreateSamplers(IReadOnlyList<SamplingOptions> options, int vocab, int historyCapacity);
    IStepGraph CreateStepGraph();
    /// <summary>LLaMA RMSNorm <c>w · x / sqrt(mean(x²) + eps)</c> with weight <paramref name="weight"/> (<see cref="OpKind.RmsNorm"/>).</summary>
    DeviceRmsNorm CreateRmsNorm(string name, ReadOnlySpan<float> weight, float eps);

    // ---- operations ----------------------------------------------------------------------------------------

    /// <summary>
    /// <c>dst[r] = Σ_j tables[j][ids[r, j]]</c>, summed in table order (j = 0 first), for the first
    /// <c>tables.Length</c> columns of the int32 <paramref name="ids"/>. Ids were validated by the caller; a backend
    /// that meets one outside its table throws (CPU) or writes NaN (devices).
    /// </summary>
    void GatherSum(ReadOnlySpan<DeviceTable> tables, TensorRows ids, TensorRows destination);

    /// <summary><c>x[r] += alpha · pe[firstPosition + r]</c>.</summary>
    void AddPositions(DevicePositions positions, TensorRows x, int firstPosition);

    /// <summary><c>x[r] += alpha · pe[positions[r]]</c>, positions an int32 column (decode steps: one row per sequence).</summary>
    void AddPositions(DevicePositions positions, TensorRows x, TensorRows rowPositions);

    /// <summary><c>y = act(x · Wᵀ + b)</c>.</summary>
    void Linear(DeviceLinear weights, TensorRows x, TensorRows y, Activation activation = Activation.None);

    /// <summary><c>x += delta</c>.</summary>
    void Add(TensorRows x, TensorRows delta);

    /// <summary>
    /// <c>y = norm(x)</c>; <paramref name="y"/> may be <paramref name="x"/>. Stages: a plain LayerNorm takes 0; an AdaLN
    /// norm takes the NAR's codebook stage 1..<see cref="DeviceNorm.Stages"/> and applies pair <c>stage - 1</c> of
    /// <see cref="CreateNorm"/>'s <c>stageScaleShift</c>. (<see cref="AddNorm"/> is part of <see cref="OpKind.Norm"/>.)
    /// </summary>
    void Norm(DeviceNorm norm, int stage, TensorRows x, TensorRows y);

    /// <summary><c>x += delta; y = norm(x)</c>: the residual add and the norm after it; <paramref name="y"/> may be <paramref name="x"/>.</summary>
    void AddNorm(DeviceNorm norm, int stage, TensorRows x, TensorRows delta, TensorRows y);

    /// <summary>Conv + BatchNorm + ReLU over the rows of ONE sequence (time = rows); <paramref name="y"/> must not be <paramref name="x"/>.</summary>
    void Conv(DeviceConv conv, TensorRows x, TensorRows y);

    /// <summary>Copies rows of the same shape and type (float or int).</summary>
    void Copy(TensorRows source, TensorRows destination);

    /// <summary>
    /// Self-attention of a pass (prefill, NAR stage). <paramref name="qkv"/>: <c>[rows, 3·dim]</c>, q | k | v of every
    /// row (torch's packed in_proj). For each segment, the keys and values of its rows are written to cache slot
    /// <see cref="AttentionSegment.Slot"/> at positions <c>[Start, Start + Length)</c> of layer
    /// <paramref name="layer"/>; then every row attends, with q scaled by 1/√headDim before the product (as torch),
    /// over the keys <see cref="AttentionSegment.VisibleKeys"/> allows. <paramref name="output"/>: <c>[rows, dim]</c>
    /// (before out_proj). Segment rows index the views, not the tensors.
    /// </summary>
    void Attention(DeviceKvCache cache, int layer, int heads, TensorRows qkv, ReadOnlySpan<AttentionSegment> segments, TensorRows output);

    /// <summary>
    /// One decode step: row r is the newest position of the sequence in cache slot <c>slots[r]</c>, whose length
    /// after this step is <c>lengths[r]</c> (int32 column): its key/value go to position <c>lengths[r] - 1</c> and it
    /// attends to keys <c>[0, lengths[r])</c>.
    /// </summary>
    void AttentionDecode(DeviceKvCache cache, int layer, int heads, TensorRows qkv, ReadOnlySpan<int> slots, TensorRows lengths, TensorRows output);

    /// <summary>Index of the largest value per row (the first on ties, as torch.argmax) into an int32 column.</summary>
    void ArgMax(TensorRows logits, TensorRows output);

    /// <summary>
    /// One token per row with the sampler of slot <c>slots[r]</c> (<see cref="TokenSampler"/>'s specification),
    /// appended to that slot's history; <paramref name="argMax"/> gets the raw logits' argmax (upstream's stop rule).
    /// The logits are only read: they are unchanged afterwards.
    /// </summary>
    void Sample(DeviceSamplers samplers, TensorRows logits, ReadOnlySpan<int> slots, TensorRows tokens, TensorRows argMax);

    /// <summary><c>counters[r] += delta</c> (int32): advances positions and lengths inside a recorded step.</summary>
    void Increment(TensorRows counters, int delta);

    /// <summary>
    /// <c>y = w · (x · rsqrt(mean(x²) + eps))</c> per row, in float32 as HF's LlamaRMSNorm; <paramref name="y"/> may be
    /// <paramref name="x"/>.
    /// </summary>
    void RmsNorm(DeviceRmsNorm norm, TensorRows x, TensorRows y);

    /// <summary>
    /// Rotary position embedding in place on the q and k columns of <paramref name="qkv"/> (<c>[rows, 3·dim]</c>,
    /// q | k | v; v untouched), head by head (<c>dim / heads</c> values each), at the position in the int32 column
    /// <paramref name="positions"/> (one per row): HF's <c>rotate_half</c> form, pairing value i with i + half:
    /// <c>out[i] = x[i]·cos(p·f_i) − x[i+half]·sin(p·f_i)</c>, <c>out[i+half] = x[i+half]·cos(p·f_i) + x[i]·sin(p·f_i)</c>,
    /// <c>f_i = theta^(−2i/headDim)</c> (float32 as torch: the angle is the float32 product of position and frequency).
    /// </summary>
    void Rope(TensorRows qkv, TensorRows positions, int heads, float theta);

    /// <summary>
    /// <c>y[r, i] = gelu(g[r, i]) · g[r, F + i]</c> for <paramref name="gateUp"/> <c>[rows, 2F]</c> (the gate then the
    /// up projection, as one packed linear) and <paramref name="y"/> <c>[rows, F]</c>, with the exact GELU
    /// <c>x · Φ(x) = 0.5 · x · erfc(−x/√2)</c> (torch's default, <c>approximate='none'</c>).
    /// </summary>
    void GatedGelu(TensorRows gateUp, TensorRows y);
}
