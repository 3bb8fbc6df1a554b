using VallE.Runtime.Backends;
using VallE.Runtime.Cpu;
using VallE.Runtime.Sampling;

namespace VallE.Runtime.Cuda;

// The weights and state objects of CudaComputeBackend: device buffers and the host values a launch needs. Made only
// by CudaComputeBackend (which validates the sizes); each owns and frees its buffers.

/// <summary>An embedding table <c>[Rows, Dim]</c> in device memory (float32).</summary>
internal sealed class CudaTable(IComputeBackend owner, string name, int rows, int dim, CudaBuffer values)
    : DeviceTable(owner, name, rows, dim)
{
    public CudaBuffer Values { get; } = values;
    public override void Dispose() => Values.Dispose();
}

/// <summary>An fp32 nn.Linear: <c>W [Out, In]</c> as PyTorch stores it (cuBLAS reads it transposed), bias or none.</summary>
internal sealed class CudaLinear(IComputeBackend owner, string name, int outFeatures, int inFeatures, CudaBuffer weight, CudaBuffer? bias)
    : DeviceLinear(owner, name, outFeatures, inFeatures, WeightsDType.F32, bias is not null)
{
    public CudaBuffer Weight { get; } = weight;
    /// <summary>Added by the bias_act kernel after the gemm (with the activation).</summary>
    public CudaBuffer? Bias { get; } = bias;
    public override long WeightBytes => 4L * OutFeatures * InFeatures;

    public override void Dispose()
    {
        Weight.Dispose();
        Bias?.Dispose();
    }
}

/// <summary>
/// LayerNorm gamma/beta and, for AdaLN, one <c>[scale | shift]</c> pair of <c>2 · Dim</c> floats per stage, stored
/// back to back in <see cref="StageScaleShift"/> (stage s, 1-based, at pair s - 1).
/// </summary>
internal sealed class CudaNorm(IComputeBackend owner, string name, int dim, int stages, float eps, CudaBuffer gamma, CudaBuffer beta,
    CudaBuffer? stageScaleShift) : DeviceNorm(owner, name, dim, stages)
{
    public float Eps { get; } = eps;
    public CudaBuffer Gamma { get; } = gamma;
    public CudaBuffer Beta { get; } = beta;
    public CudaBuffer? StageScaleShift { get; } = stageScaleShift;

    /// <summary>
    /// The AdaLN pair of <paramref name="stage"/> (device addresses of scale and shift), or (0, 0) for a plain
    /// LayerNorm, which ignores the stage as the CPU engine does.
    /// </summary>
    public (nint Scale, nint Shift) Stage(int stage)
    {
        int pair = PairIndex(Stages, stage);
        if (pair < 0) return (0, 0);
        long first = 2L * Dim * pair;
        return (StageScaleShift!.At<float>(first), StageScaleShift.At<float>(first + Dim));
    }

    /// <summary>Index of the stage's pair (stage s uses pair s - 1), -1 for a plain LayerNorm; throws for a stage out of range.</summary>
    internal static int PairIndex(int stages, int stage)
    {
        if (stages == 0) return -1;
        if (stage < 1 || stage > stages)
            throw new ArgumentOutOfRangeException(nameof(stage), $"AdaLN stage {stage}; this norm has stages 1..{stages}");
        return stage - 1;
    }

    public override void Dispose()
    {
        Gamma.Dispose();
        Beta.Dispose();
        StageScaleShift?.Dispose();
    }
}

/// <summary>
/// Conv1d + folded BatchNorm + ReLU, kept on the HOST: CUDA has no conv kernel, so <see cref="CudaComputeBackend.Conv"/>
/// reads the rows back, runs the CPU backend's <see cref="Cpu.ConvBlock"/> (the one implementation) and writes the
/// result (the text prenet only, once per request).
/// </summary>
internal sealed class CudaConv(IComputeBackend owner, string name, int dim, int kernel, Cpu.ConvBlock block) : DeviceConv(owner, name, dim, kernel)
{
    public Cpu.ConvBlock Block { get; } = block;
}

/// <summary>An RMSNorm's fp32 weight on the device.</summary>
internal sealed class CudaRmsNorm(IComputeBackend owner, string name, int dim, float eps, CudaBuffer weight)
    : DeviceRmsNorm(owner, name, dim, eps)
{
    public CudaBuffer Weight { get; } = weight;

    public override void Dispose() => Weight.Dispose();
}

/// <summary>The sine positional encoding: the inverse frequencies <c>w_i</c> on the device; angles are computed per launch.</summary>
internal sealed class CudaPositions(IComputeBackend owner, string name, int dim, float alpha, CudaBuffer inverseFrequencies)
    : DevicePositions(owner, name, dim, alpha)
{
    public CudaBuffer InverseFrequencies { get; } = inverseFrequencies;

    /// <summary>Nothing to prepare: the kernels compute <c>sin/cos(p · w_i)</c> for any position.</summary>
    public override void EnsureCapacity(int positions) => ArgumentOutOfRangeException.ThrowIfNegative(positions);

    public override void Dispose() => InverseFrequencies.Dispose();
}

/// <summary>
/// Per layer, K and V of <c>[Slots, Capacity, Dim]</c> float32 (slot s at element <c>s · Capacity · Dim</c>) and the
/// decode-attention scratch, sized for every slot at once and any head count. A cache without history holds no
/// memory at all: attention then reads keys and values straight from the packed q|k|v rows of the pass.
/// </summary>
internal sealed class CudaKvCache : DeviceKvCache
{
    private readonly CudaBuffer[] _k, _v;

    public CudaKvCache(IComputeBackend owner, CudaDevice device, string name, int slots, int layers, int capacity, int dim, bool keepsHistory)
        : base(owner, name, slots, layers, capacity, dim, keepsHistory)
    {
        int n = keepsHistory ? layers : 0;
        _k = new CudaBuffer[n];
        _v = new CudaBuffer[n];
        try
        {
            long floats = checked((long)slots * capacity * dim);
            for (int l = 0; l < n; l++)
            {
                _k[l] = device.Allocate<float>(floats);
                _v[l] = device.Allocate<float>(floats);
            }
            if (keepsHistory)
            {
                // heads · (headDim + 2) = dim + 2 · heads <= 3 · dim: the kernel's size for heads = dim, headDim = 1
                // bounds every head count, so the scratch never has to grow inside a recorded step.
                PartialsFloats = CudaKernels.AttentionDecodePartialsFloats(slots, dim, 1, capacity);
                Partials = device.Allocate<float>(Math.Max(1, PartialsFloats));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Null for a cache without history.</summary>
    public CudaBuffer? Partials { get; }
    public long PartialsFloats { get; }

    public CudaBuffer K(int layer) => _k[layer];
    public CudaBuffer V(int layer) => _v[layer];

    /// <summary>Element offset of position 0 of <paramref name="slot"/> in a layer's K or V.</summary>
    public long SlotOffset(int slot) => (long)slot * Capacity * Dim;

    public override void Dispose()
    {
        foreach (var b in _k) b?.Dispose();
        foreach (var b in _v) b?.Dispose();
        Partials?.Dispose();
    }
}

/// <summary>
/// Device state of one sampler per slot: repetition history <c>[Slots, HistoryCapacity]</c> int32, history lengths
/// int32 and Philox step counters uint64 (all zero at creation; valle_sample advances them), plus each slot's options
/// and seed as host values (launch arguments).
/// </summary>
internal sealed class CudaSamplers : DeviceSamplers
{
    private readonly ulong[] _seeds;

    public CudaSamplers(IComputeBackend owner, CudaDevice device, IReadOnlyList<SamplingOptions> options, int vocab, int historyCapacity)
        : base(owner, options, vocab)
    {
        HistoryCapacity = historyCapacity;
        _seeds = new ulong[options.Count];
        for (int s = 0; s < _seeds.Length; s++) _seeds[s] = SeedOf(options[s]);
        try
        {
            History = device.Allocate<int>(Math.Max(1L, (long)options.Count * historyCapacity));
            HistoryLengths = device.Allocate<int>(options.Count);
            Counters = device.Allocate<ulong>(options.Count);
            HistoryLengths.Clear();
            Counters.Clear();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int HistoryCapacity { get; }
    public CudaBuffer History { get; } = null!;
    public CudaBuffer HistoryLengths { get; } = null!;
    public CudaBuffer Counters { get; } = null!;

    public override ulong Seed(int slot) => _seeds[slot];

    /// <summary>The seed asked for, or a random one: <see cref="TokenSampler"/>'s rule.</summary>
    internal static ulong SeedOf(SamplingOptions options) => SamplerSeed.Resolve(options.Seed);

    public override void Dispose()
    {
        History?.Dispose();
        HistoryLengths?.Dispose();
        Counters?.Dispose();
    }
}
