using BenchmarkDotNet.Attributes;
using VallE.Runtime.Cpu;

namespace VallE.Bench.Cpu;

/// <summary>
/// Dispatch cost of <see cref="CpuBackend.For{TJob}(int, ref TJob)"/> (all cores) with empty work (what a decode step pays per
/// parallel call, hundreds of times per token) against <see cref="Parallel.For(int, int, Action{int})"/>.
/// Run: <c>dotnet run -c Release --project bench/VallE.Bench -- --filter '*CpuParallelBenchmark*'</c>.
/// </summary>
[Config(typeof(CpuBenchConfig))]
[MemoryDiagnoser]
public class CpuParallelBenchmark
{
    [Params(16)] public int Items { get; set; }

    private struct EmptyJob : IParallelJob
    {
        public int[] Sink;
        public void Execute(int index, int worker) => Sink[index] = index;
    }

    private readonly CpuBackend _backend = new();
    private EmptyJob _job;
    private int[] _sink = [];
    private Action<int> _body = null!;

    [GlobalSetup]
    public void Setup()
    {
        _sink = new int[Items];
        _job = new EmptyJob { Sink = _sink };
        _body = i => _sink[i] = i;
    }

    [GlobalCleanup]
    public void Cleanup() => _backend.Dispose();

    [Benchmark(Baseline = true)]
    public void CpuParallelFor() => _backend.For(Items, ref _job);

    [Benchmark]
    public void TplParallelFor() => Parallel.For(0, Items, _body);
}
