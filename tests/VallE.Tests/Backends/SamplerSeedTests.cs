using VallE.Runtime.Backends;
using VallE.Runtime.Sampling;

namespace VallE.Tests.Backends;

/// <summary>
/// A seed is a generation's identity: the same seed and options give the same tokens whatever the CPU backend's
/// thread count, and on CUDA the same tokens as on the CPU. Each run is a small closed-loop generation: a slot's next
/// logits depend on its previous token, so one differing draw changes everything after it.
/// </summary>
public class SamplerSeedTests
{
    private const int Vocab = 1025;
    private const int Steps = 24;

    private static readonly SamplingOptions[] Options =
    [
        new() { TopK = 50, TopP = 0.9f, Temperature = 0.8f, RepetitionPenalty = 1.3f, RepetitionWindow = 16, Seed = 42 },
        new() { Seed = 7 },                                                     // upstream's defaults: plain multinomial
        new() { TopK = 10, Temperature = 1.5f, RepetitionPenalty = 2f, RepetitionWindow = 4, Seed = 42 },
        new() { TopP = 0.5f, MinP = 0.02f, Seed = 0xDEADBEEFCAFEUL },
        new() { TopK = 1, RepetitionPenalty = 1.5f, RepetitionWindow = 8, Seed = 3 }, // greedy with a penalty
    ];

    /// <summary>
    /// Tokens per slot over <see cref="Steps"/> steps; odd steps sample the slots in reverse row order (a slot's
    /// draws depend on its seed and step, never on its row).
    /// </summary>
    internal static int[][] Generate(IComputeBackend b, SamplingOptions[] options, int vocab, int steps)
    {
        int n = options.Length;
        using var samplers = b.CreateSamplers(options, vocab, historyCapacity: 64);
        using var logits = b.Allocate(TensorType.F32, n, vocab);
        using var tokens = b.Allocate(TensorType.I32, n, 1);
        using var argMax = b.Allocate(TensorType.I32, n, 1);
        var generated = options.Select(_ => new List<int>()).ToArray();
        var host = new float[n * vocab];
        var read = new int[n];
        for (int step = 0; step < steps; step++)
        {
            int[] slots = Enumerable.Range(0, n).ToArray();
            if (step % 2 == 1) Array.Reverse(slots);
            for (int r = 0; r < n; r++)
            {
                int slot = slots[r], previous = generated[slot].Count > 0 ? generated[slot][^1] : -1;
                var row = host.AsSpan(r * vocab, vocab);
                TestData.Uniform(vocab, HashCode.Combine(step, slot, previous) & 0x7FFFFFFF, scale: 4f).CopyTo(row);
                if (previous >= 0 && step % 3 != 0) row[previous] = 4.5f; // the repetition penalty has work to do
            }
            b.Write(logits.All, host);
            b.Sample(samplers, logits.All, slots, tokens.All, argMax.All);
            b.Read(tokens.All, read);
            for (int r = 0; r < n; r++) generated[slots[r]].Add(read[r]);
        }
        return generated.Select(g => g.ToArray()).ToArray();
    }

    /// <summary>The same loop with <see cref="TokenSampler"/> used directly: the specification.</summary>
    private static int[][] GenerateReference(SamplingOptions[] options, int vocab, int steps)
    {
        var samplers = options.Select(o => new TokenSampler(o, vocab)).ToArray();
        var generated = options.Select(_ => new List<int>()).ToArray();
        for (int step = 0; step < steps; step++)
            for (int slot = 0; slot < options.Length; slot++)
            {
                int previous = generated[slot].Count > 0 ? generated[slot][^1] : -1;
                var row = TestData.Uniform(vocab, HashCode.Combine(step, slot, previous) & 0x7FFFFFFF, scale: 4f);
                if (previous >= 0 && step % 3 != 0) row[previous] = 4.5f;
                generated[slot].Add(samplers[slot].Sample(row, generated[slot].ToArray()));
            }
        return generated.Select(g => g.ToArray()).ToArray();
    }

    private static void AssertSameTokens(int[][] actual, int[][] expected, string what)
    {
        for (int slot = 0; slot < expected.Length; slot++)
            Assert.That(actual[slot], Is.EqualTo(expected[slot]), $"{what}: slot {slot} (seed {Options[slot].Seed})");
    }

    [Test]
    public void CpuSeedGivesTheSameTokensWhateverTheThreadCount()
    {
        int[][] expected = GenerateReference(Options, Vocab, Steps);
        Assert.That(expected.SelectMany(t => t).Distinct().Count(), Is.GreaterThan(Steps), "the loop samples varied tokens");
        foreach (int threads in new[] { 1, 2, 3 })
        {
            using var b = TestBackends.Cpu(threads);
            AssertSameTokens(Generate(b, Options, Vocab, Steps), expected, $"cpu with {threads} threads vs TokenSampler");
        }
    }

    [Test]
    public void CpuSeedRepeatsOnTheSameBackend()
    {
        using var b = TestBackends.Cpu(2);
        int[][] first = Generate(b, Options, Vocab, Steps);
        AssertSameTokens(Generate(b, Options, Vocab, Steps), first, "second run with fresh samplers");
    }

    [Test]
    public void CudaSeedGivesTheCpuTokens()
    {
        using IComputeBackend cuda = TestBackends.Cuda();
        TestBackends.Require(cuda, new OpRequirement(OpKind.Sample, Vocab: Vocab));
        using var cpu = TestBackends.Cpu(2);
        AssertSameTokens(Generate(cuda, Options, Vocab, Steps), Generate(cpu, Options, Vocab, Steps), "cuda vs cpu");
    }
}
