using BenchmarkDotNet.Running;

namespace VallE.Bench;

/// <summary>
/// Micro-benchmarks (BenchmarkDotNet). Run: <c>dotnet run -c Release --project bench/VallE.Bench -- --filter '*'</c>.
/// End-to-end comparisons against PyTorch are <c>valle bench</c> and <c>bench/compare.sh</c>.
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
