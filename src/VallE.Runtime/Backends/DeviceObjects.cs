using VallE.Runtime.Cpu;
using VallE.Runtime.Sampling;

namespace VallE.Runtime.Backends;

/// <summary>
/// A weight or state object a backend made for itself at load time (weights) or per call (caches, samplers).
/// Only that backend may use it; the model holds them without looking inside.
/// </summary>
public abstract class DeviceObject : IDisposable
{
    protected DeviceObject(IComputeBackend owner, string name)
    {
        Owner = owner;
        Name = name;
    }

    public IComputeBackend Owner { get; }
    /// <summary>The upstream name it was loaded from (messages), or what it is.</summary>
    public string Name { get; }

    public virtual void Dispose() { }

    public override string ToString() => Name;
}

/// <summary>nn.Linear: <c>y = x · Wᵀ + b</c>, <c>W</c> <c>[Out, In]</c>, stored as <see cref="DType"/>.</summary>
public abstract class DeviceLinear(IComputeBackend owner, string name, int outFeatures, int inFeatures, WeightsDType dtype, bool hasBias)
    : DeviceObject(owner, name)
{
    public int OutFeatures { get; } = outFeatures;
    public int InFeatures { get; } = inFeatures;
    public WeightsDType DType { get; } = dtype;
    public bool HasBias { get; } = hasBias;
    /// <summary>Bytes of weights one product reads (the floor of a memory-bound decode step).</summary>
    public abstract long WeightBytes { get; }
}

/// <summary>An nn.Embedding table <c>[Rows, Dim]</c> (float32).</summary>
public abstract class DeviceTable(IComputeBackend owner, string name, int rows, int dim) : DeviceObject(owner, name)
{
    public int Rows { get; } = rows;
    public int Dim { get; } = dim;
}

/// <summary>
/// torch LayerNorm (affine, biased variance, eps inside the root); with per-stage <c>scale</c>/<c>shift</c> it is
/// upstream's AdaptiveLayerNorm <c>scale[stage] · LayerNorm(x) + shift[stage]</c>.
/// </summary>
public abstract class DeviceNorm(IComputeBackend owner, string name, int dim, int stages) : DeviceObject(owner, name)
{
    public int Dim { get; } = dim;
    /// <summary>AdaLN stages (stage s uses the pair computed from stage embedding s - 1); 0 for a plain LayerNorm.</summary>
    public int Stages { get; } = stages;
}

/// <summary>LLaMA RMSNorm: <c>w · x · rsqrt(mean(x²) + Eps)</c> over rows of <see cref="Dim"/> values.</summary>
public abstract class DeviceRmsNorm(IComputeBackend owner, string name, int dim, float eps) : DeviceObject(owner, name)
{
    public int Dim { get; } = dim;
    public float Eps { get; } = eps;
}

/// <summary>Conv1d(Dim, Dim, Kernel, padding "same") + BatchNorm1d (eval, folded to scale/shift) + ReLU over time.</summary>
public abstract class DeviceConv(IComputeBackend owner, string name, int dim, int kernel) : DeviceObject(owner, name)
{
    public int Dim { get; } = dim;
    public int Kernel { get; } = kernel;
}

/// <summary>
/// Upstream's SinePositionalEmbedding at inference (<c>scale=False</c>): <c>x + alpha · pe[pos]</c>, with
/// <c>pe[p, 2i] = sin(p·w_i)</c>, <c>pe[p, 2i+1] = cos(p·w_i)</c>, <c>w_i</c> = <see cref="Models.SinePositions.Frequencies"/>.
/// </summary>
public abstract class DevicePositions(IComputeBackend owner, string name, int dim, float alpha) : DeviceObject(owner, name)
{
    public int Dim { get; } = dim;
    public float Alpha { get; } = alpha;
    /// <summary>Prepares positions <c>[0, positions)</c> (a table on the CPU; nothing where they are computed on the fly).</summary>
    public abstract void EnsureCapacity(int positions);
}

/// <summary>
/// Keys and values of <see cref="Slots"/> sequences, <see cref="Layers"/> layers, <see cref="Capacity"/> positions of
/// width <see cref="Dim"/>. A cache without history (<see cref="KeepsHistory"/> false, the NAR's) serves passes over
/// whole sequences only: every layer may reuse one buffer.
/// </summary>
public abstract class DeviceKvCache(IComputeBackend owner, string name, int slots, int layers, int capacity, int dim, bool keepsHistory)
    : DeviceObject(owner, name)
{
    public int Slots { get; } = slots;
    public int Layers { get; } = layers;
    public int Capacity { get; } = capacity;
    public int Dim { get; } = dim;
    public bool KeepsHistory { get; } = keepsHistory;
}

/// <summary>
/// One token sampler per slot (sequence), each with its options, seed, repetition history and Philox step counter:
/// the state <see cref="IComputeBackend.Sample"/> advances. The specification is <see cref="TokenSampler"/>'s.
/// </summary>
public abstract class DeviceSamplers(IComputeBackend owner, IReadOnlyList<SamplingOptions> options, int vocab)
    : DeviceObject(owner, "samplers")
{
    public IReadOnlyList<SamplingOptions> Options { get; } = options;
    public int Slots => Options.Count;
    public int Vocab { get; } = vocab;
    /// <summary>The seed each slot actually uses (the one asked for, or a random one).</summary>
    public abstract ulong Seed(int slot);
}

/// <summary>
/// A step that repeats with the same shape: the AR decode step. <see cref="Run"/> executes the body; a backend that
/// can record it (CUDA graphs) records it on the first run of a version and replays the recording
/// after, so the body must take everything that changes between runs from tensors (positions, lengths, tokens),
/// and the caller bumps the version whenever anything the body passes as a host value changes (the batch).
/// </summary>
public interface IStepGraph : IDisposable
{
    void Run(int version, Action body);
}

/// <summary>
/// A run of consecutive rows of one sequence in a pass: rows <c>[Row, Row + Length)</c> of the pass are positions
/// <c>[Start, Start + Length)</c> of cache slot <see cref="Slot"/>.
/// </summary>
/// <param name="TextLength">AR only: positions below it are text, which sees all text and no audio (upstream's
/// x_attn_mask); audio positions see all text and earlier audio. Ignored when <paramref name="Causal"/> is false.</param>
/// <param name="Causal">False for the NAR: every position sees the whole sequence.</param>
public readonly record struct AttentionSegment(int Slot, int Row, int Start, int Length, int TextLength, bool Causal)
{
    /// <summary>Number of keys position <paramref name="pos"/> may attend to (keys <c>[0, count)</c>).</summary>
    public int VisibleKeys(int pos) => !Causal ? Start + Length : pos < TextLength ? TextLength : pos + 1;
}
