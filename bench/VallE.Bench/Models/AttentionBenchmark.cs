using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using VallE.Bench.Cpu;
using VallE.Runtime.Cpu;
using VallE.Runtime.Models;

namespace VallE.Bench.Models;

/// <summary>
/// The attention of one NAR stage layer (every one of <see cref="Rows"/> positions attends to all of them, 512 wide,
/// 8 heads of 64) — per-row path vs blocked (<see cref="BlockAttention"/>), side by side; and a decode step's (one row
/// against all of them, 6 layers). The q/k/v projections are
/// not included. Run: <c>dotnet run -c Release --project bench/VallE.Bench -- --filter '*AttentionBenchmark*'</c>.
/// </summary>
[Config(typeof(CpuBenchConfig))]
public class AttentionBenchmark : IWeightStreamingBenchmark
{
    private const int Dim = 512, Heads = 8;

    /// <summary>Positions of the pass: 435 = text 60 + prompt 225 + 150 generated frames (the bench preset).</summary>
    [Params(435)] public int Rows { get; set; }

    [Params(false, true)] public bool Blocked { get; set; }

    /// <summary>CpuBackend threads; 0 = all cores.</summary>
    [Params(0)] public int Threads { get; set; }

    private CpuBackend _backend = null!;
    private AttentionJob _job = null!;
    private float[] _qkv = [], _attn = [];
    private Segment[] _segments = [];
    private Segment[] _decodeSegments = [];

    [GlobalSetup]
    public void Setup()
    {
        _backend = new CpuBackend(Threads, blockedAttention: Blocked);
        _job = new AttentionJob(_backend);
        _qkv = new float[Rows * 3 * Dim];
        _attn = new float[Rows * Dim];
        var cache = new KvCache(1, Rows, Dim);
        var rng = new Random(1);
        foreach (var a in new[] { _qkv, cache.Keys(0), cache.Values(0) })
            for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        _segments = [new Segment(cache, Row: 0, Start: 0, Length: Rows, TextLength: 0, Causal: false)];
        // A decode step's attention: the last position's query against all Rows keys, for all 6 layers of the model.
        _decodeSegments = [new Segment(cache, Row: 0, Start: Rows - 1, Length: 1, TextLength: 0, Causal: false)];
    }

    [GlobalCleanup]
    public void Cleanup() => _backend.Dispose();

    [Benchmark]
    public void Attend()
    {
        _job.Run(new AttentionShape(0, Dim, Heads), _segments, _qkv, 0, _attn, 0, Rows, Rows);
    }

    /// <summary>One decode step's attention (one query row, Rows keys) in each of 6 layers.</summary>
    [Benchmark]
    public void DecodeStep()
    {
        for (int layer = 0; layer < 6; layer++)
            _job.Run(new AttentionShape(0, Dim, Heads), _decodeSegments, _qkv, 0, _attn, 0, 1, Rows);
    }

    public static long WeightBytes(BenchmarkCase c) => 0;

    /// <summary>q·K and P·V: 2 × rows × keys × Dim multiply-adds.</summary>
    public static double Flops(BenchmarkCase c)
    {
        double rows = (int)BenchNumbers.Param(c, nameof(Rows));
        return c.Descriptor.WorkloadMethod.Name == nameof(DecodeStep) ? 2.0 * 2.0 * 6 * rows * Dim : 2.0 * 2.0 * rows * rows * Dim;
    }
}
