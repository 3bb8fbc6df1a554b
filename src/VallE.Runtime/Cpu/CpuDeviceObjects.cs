using VallE.Runtime.Backends;
using VallE.Runtime.Models;
using VallE.Runtime.Sampling;

namespace VallE.Runtime.Cpu;

// The CPU backend's weights and state: thin wrappers over the CPU kernels' own types.

internal sealed class CpuTable(IComputeBackend owner, Embedding table) : DeviceTable(owner, table.Name, table.Rows, table.Dim)
{
    public Embedding Table { get; } = table;
}

internal sealed class CpuLinear(IComputeBackend owner, string name, LinearWeights weights, bool hasBias)
    : DeviceLinear(owner, name, weights.OutFeatures, weights.InFeatures, weights.DType, hasBias)
{
    public LinearWeights Weights { get; } = weights;
    public override long WeightBytes => Weights.WeightBytes;
}

internal sealed class CpuNorm(IComputeBackend owner, string name, RowNorm norm, int stages) : DeviceNorm(owner, name, norm.Dim, stages)
{
    public RowNorm Norm { get; } = norm;
}

internal sealed class CpuRmsNorm(IComputeBackend owner, string name, float[] weight, float eps) : DeviceRmsNorm(owner, name, weight.Length, eps)
{
    public float[] Weight { get; } = weight;
}

internal sealed class CpuConv(IComputeBackend owner, string name, ConvBlock block, int dim, int kernel)
    : DeviceConv(owner, name, dim, kernel)
{
    public ConvBlock Block { get; } = block;
}

internal sealed class CpuPositions(IComputeBackend owner, string name, SinePositions table) : DevicePositions(owner, name, table.Dim, table.Alpha)
{
    public SinePositions Table { get; } = table;
    public override void EnsureCapacity(int positions) => Table.EnsureCapacity(positions);
}

/// <summary>One <see cref="KvCache"/> per slot (one shared layer buffer when the cache keeps no history).</summary>
internal sealed class CpuKvCache : DeviceKvCache
{
    public CpuKvCache(IComputeBackend owner, string name, int slots, int layers, int capacity, int dim, bool keepsHistory)
        : base(owner, name, slots, layers, capacity, dim, keepsHistory)
    {
        Caches = new KvCache[slots];
        for (int s = 0; s < slots; s++) Caches[s] = new KvCache(layers, capacity, dim, shareOneSlot: !keepsHistory);
    }

    public KvCache[] Caches { get; }
}

/// <summary>A <see cref="TokenSampler"/> per slot and the tokens it has drawn (its repetition history).</summary>
internal sealed class CpuSamplers : DeviceSamplers
{
    public CpuSamplers(IComputeBackend owner, IReadOnlyList<SamplingOptions> options, int vocab, int historyCapacity) : base(owner, options, vocab)
    {
        Samplers = options.Select(o => new TokenSampler(o, vocab)).ToArray();
        History = options.Select(_ => new int[Math.Max(0, historyCapacity)]).ToArray();
        Counts = new int[options.Count];
    }

    public TokenSampler[] Samplers { get; }
    public int[][] History { get; }
    public int[] Counts { get; }
    public override ulong Seed(int slot) => Samplers[slot].Seed;
}

/// <summary>The CPU has nothing to record: a step is its body, run again.</summary>
internal sealed class CpuStepGraph : IStepGraph
{
    public void Run(int version, Action body) => body();
    public void Dispose() { }
}
