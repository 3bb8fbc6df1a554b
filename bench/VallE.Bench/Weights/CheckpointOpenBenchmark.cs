using BenchmarkDotNet.Attributes;
using VallE.Weights.Torch;

namespace VallE.Bench.Weights;

/// <summary>
/// Opening a torch checkpoint (zip index + safe unpickle + one validated view per tensor, storages mapped not read).
/// Uses $VALLE_BENCH_CHECKPOINT, else the shared valle-tiny fixture. The side-by-side comparison with torch.load on a
/// 1.4 GB file, with peak RSS, is bench/checkpoint-open.sh.
/// Run: <c>dotnet run -c Release --project bench/VallE.Bench -- --filter '*CheckpointOpenBenchmark*'</c>.
/// </summary>
[MemoryDiagnoser]
public class CheckpointOpenBenchmark
{
    private string _path = "";

    [GlobalSetup]
    public void Setup()
    {
        _path = Environment.GetEnvironmentVariable("VALLE_BENCH_CHECKPOINT") is { Length: > 0 } p ? p : SharedFixture();
        if (!File.Exists(_path)) throw new FileNotFoundException("set VALLE_BENCH_CHECKPOINT to a torch checkpoint", _path);
    }

    /// <summary>../shared beside the repository root (BenchmarkDotNet runs from a generated folder below bin/).</summary>
    private static string SharedFixture()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "VallE.sln"))) dir = Path.GetDirectoryName(dir);
        return Path.GetFullPath(Path.Combine(dir ?? ".", "..", "shared", "fixtures", "valle", "valle-tiny", "checkpoint.pt"));
    }

    [Benchmark]
    public int OpenAndMapEveryTensor()
    {
        using var ck = TorchCheckpoint.Open(_path);
        return ck.AllTensors().Count();
    }
}
