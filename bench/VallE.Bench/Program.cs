using BenchmarkDotNet.Running;

namespace VallE.Bench;

/// <summary>
/// Micro-benchmarks (BenchmarkDotNet). Run: <c>dotnet run -c Release --project bench/VallE.Bench -- --filter '*'</c>.
/// End-to-end comparisons against PyTorch are <c>valle bench</c> and <c>bench/compare.sh</c>.
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        // Stopwatch entry that needs a process of its own (peak RSS): bench/checkpoint-open.sh.
        if (args is ["checkpoint-open", .. var rest]) { Environment.ExitCode = Weights.CheckpointOpenTimer.Run(rest); return; }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
