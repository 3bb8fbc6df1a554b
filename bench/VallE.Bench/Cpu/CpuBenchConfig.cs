using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using VallE.Runtime.Cpu;

namespace VallE.Bench.Cpu;

/// <summary>
/// Short runs (3 warm-ups, 5 measured iterations, in-process: no per-benchmark project build) — the machines these
/// run on during development are shared, and the weight-streaming benchmarks are long per invocation anyway.
/// </summary>
public class CpuBenchConfig : ManualConfig
{
    public CpuBenchConfig() : this(iterations: 5, iterationMs: 0) { }

    /// <param name="iterations">Measured iterations.</param>
    /// <param name="iterationMs">Target time per iteration (0: BenchmarkDotNet's default, 500 ms).</param>
    protected CpuBenchConfig(int iterations, int iterationMs)
    {
        var job = Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(iterations)
            .WithToolchain(InProcessEmitToolchain.Instance).WithId("Short");
        if (iterationMs > 0) job = job.WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(iterationMs));
        AddJob(job);
        // Derived columns use the fastest iteration: on a shared machine the mean mostly measures the neighbours.
        AddColumn(StatisticColumn.Min, new WeightBandwidthColumn(), new ProbeShareColumn(), new GflopsColumn());
    }
}

/// <summary>What a benchmark reads and computes per invocation, for the derived columns.</summary>
public interface IWeightStreamingBenchmark
{
    /// <summary>Weight bytes one invocation reads, for the parameters in <paramref name="benchmarkCase"/>.</summary>
    static abstract long WeightBytes(BenchmarkCase benchmarkCase);

    /// <summary>Floating-point operations (2 per multiply-add) of one invocation.</summary>
    static abstract double Flops(BenchmarkCase benchmarkCase);
}

/// <summary>Shared helpers for the columns: the benchmark's static numbers and the measured bandwidth floor.</summary>
internal static class BenchNumbers
{
    private static readonly Dictionary<int, double> Probes = [];

    /// <summary>The bandwidth probe with the thread count the benchmark ran with (a "Threads" parameter, 0 = all).</summary>
    internal static double ProbeGBps(BenchmarkCase benchmarkCase)
    {
        int threads = ThreadsOf(benchmarkCase);
        lock (Probes)
        {
            if (Probes.TryGetValue(threads, out double gbps)) return gbps;
            using var backend = new CpuBackend(threads);
            return Probes[threads] = MemoryBandwidth.MeasureGBps(backend);
        }
    }

    internal static int ThreadsOf(BenchmarkCase benchmarkCase)
    {
        var parameter = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "Threads");
        return parameter?.Value is int t and > 0 ? t : Environment.ProcessorCount;
    }

    internal static double? MeanSeconds(Summary summary, BenchmarkCase benchmarkCase) =>
        summary[benchmarkCase]?.ResultStatistics?.Min / 1e9;

    internal static (long Bytes, double Flops)? Work(BenchmarkCase benchmarkCase)
    {
        var type = benchmarkCase.Descriptor.Type;
        var bytes = type.GetMethod(nameof(IWeightStreamingBenchmark.WeightBytes));
        var flops = type.GetMethod(nameof(IWeightStreamingBenchmark.Flops));
        if (bytes is null || flops is null) return null;
        return ((long)bytes.Invoke(null, [benchmarkCase])!, (double)flops.Invoke(null, [benchmarkCase])!);
    }

    internal static object Param(BenchmarkCase benchmarkCase, string name) => benchmarkCase.Parameters[name];
}

internal abstract class DerivedColumn(string name, string legend) : IColumn
{
    public string Id => GetType().Name;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => BenchNumbers.Work(c) is not null);
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var seconds = BenchNumbers.MeanSeconds(summary, benchmarkCase);
        var work = BenchNumbers.Work(benchmarkCase);
        return seconds is > 0 && work is { } w ? Format(w.Bytes, w.Flops, seconds.Value, benchmarkCase) : "-";
    }

    protected abstract string Format(long bytes, double flops, double seconds, BenchmarkCase benchmarkCase);
}

internal sealed class WeightBandwidthColumn() : DerivedColumn("Weights GB/s", "Weight bytes read per second (10^9 B/s), at the Min time")
{
    protected override string Format(long bytes, double flops, double seconds, BenchmarkCase benchmarkCase) => $"{bytes / seconds / 1e9:F1}";
}

internal sealed class ProbeShareColumn() : DerivedColumn("% of probe", "Weight GB/s as a share of MemoryBandwidth.MeasureGBps() with the same threads (measured once per run)")
{
    protected override string Format(long bytes, double flops, double seconds, BenchmarkCase benchmarkCase)
    {
        double probe = BenchNumbers.ProbeGBps(benchmarkCase);
        return $"{100 * bytes / seconds / 1e9 / probe:F0}% of {probe:F1}";
    }
}

internal sealed class GflopsColumn() : DerivedColumn("GFLOP/s", "Arithmetic rate (2 flops per multiply-add), at the Min time")
{
    protected override string Format(long bytes, double flops, double seconds, BenchmarkCase benchmarkCase) => $"{flops / seconds / 1e9:F1}";
}

/// <summary>Many short iterations: on a shared machine the fastest of them is the one the neighbours left alone.</summary>
public class ManyShortIterationsConfig() : CpuBenchConfig(iterations: 40, iterationMs: 25);
