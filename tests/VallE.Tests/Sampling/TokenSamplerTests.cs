using VallE.Tests.Support;
using VallE.Runtime.Sampling;

namespace VallE.Tests.Sampling;

[TestFixture]
public class TokenSamplerTests
{
    private const int Vocab = 1025; // AR vocabulary: 1024 codes + EOS

    private static float[] RandomLogits(Random rng, int v, bool ties, int negInf)
    {
        var logits = new float[v];
        for (int i = 0; i < v; i++)
        {
            double g = rng.NextDouble() * 8 - 4;
            // With ties on, values land on a coarse grid so that many tokens share a logit, including at the
            // k-th position and at the top-p boundary.
            logits[i] = ties ? MathF.Round((float)g * 2f) / 2f : (float)g;
        }
        for (int n = 0; n < negInf; n++) logits[rng.Next(v)] = float.NegativeInfinity;
        return logits;
    }

    private static void AssertSameFilter(float[] logits, SamplingOptions options, string label)
    {
        double[] expected = UpstreamFilterReference.Filter(logits, options.TopK, options.TopP, options.Temperature, options.MinP);
        float[] actual = (float[])logits.Clone();
        int kept = new TokenSampler(options, logits.Length).Filter(actual, []);
        for (int i = 0; i < logits.Length; i++)
        {
            bool expectKept = !double.IsNegativeInfinity(expected[i]);
            bool isKept = !float.IsNegativeInfinity(actual[i]);
            if (expectKept != isKept)
                Assert.Fail($"{label}: token {i} (logit {logits[i]}) kept={isKept}, upstream keeps={expectKept}");
            if (isKept) Assert.That(actual[i], Is.EqualTo((float)expected[i]), $"{label}: token {i} value");
        }
        Assert.That(kept, Is.EqualTo(expected.Count(d => !double.IsNegativeInfinity(d))), label);
    }

    private static readonly int[] TopKs = [-100, 0, 1, 2, 5, 50, 1024, 1025, 5000];
    private static readonly float[] TopPs = [0f, 1e-6f, 0.1f, 0.5f, 0.9f, 0.999f, 1f];   // > 1 is refused by SamplingOptions.Validate

    [Test]
    public void TopKTopPMatchUpstreamOnRandomLogits([Values(false, true)] bool ties)
    {
        var rng = new Random(ties ? 11 : 7);
        for (int trial = 0; trial < 6; trial++)
        {
            float[] logits = RandomLogits(rng, Vocab, ties, negInf: trial * 40);
            foreach (int k in TopKs)
                foreach (float p in TopPs)
                    AssertSameFilter(logits, new SamplingOptions { TopK = k, TopP = p }, $"trial {trial} k={k} p={p}");
        }
    }

    [Test]
    public void TemperatureAndMinPMatchReference([Values(0.3f, 0.7f, 1f, 1.8f)] float temperature)
    {
        var rng = new Random(3);
        float[] logits = RandomLogits(rng, Vocab, ties: false, negInf: 10);
        foreach (float minP in new[] { 0f, 0.01f, 0.2f, 1f })
            foreach (float p in new[] { 0.8f, 1f })
                AssertSameFilter(logits, new SamplingOptions { TopK = 40, TopP = p, Temperature = temperature, MinP = minP },
                    $"T={temperature} min_p={minP} p={p}");
    }

    [Test]
    public void TopPBoundaryKeepsTheFirstTokenAboveTheThreshold()
    {
        // Softmax of ln(0.5), ln(0.3), ln(0.2) is exactly [0.5, 0.3, 0.2]: cumulative 0.5, 0.8, 1.0.
        float[] logits = [MathF.Log(0.3f), MathF.Log(0.5f), MathF.Log(0.2f)];
        static int Kept(float[] l, float p) => new TokenSampler(new SamplingOptions { TopP = p }, 3).Filter((float[])l.Clone(), []);
        Assert.That(Kept(logits, 0.4f), Is.EqualTo(1), "0.5 > 0.4 at the first token: only it stays");
        Assert.That(Kept(logits, 0.6f), Is.EqualTo(2), "first above 0.6 is the second token, kept");
        Assert.That(Kept(logits, 0.85f), Is.EqualTo(3));
        Assert.That(Kept(logits, 0f), Is.EqualTo(1), "top_p 0 still keeps the best token");
    }

    [Test]
    public void TopKKeepsEveryTieOfTheKthValue()
    {
        float[] logits = [1f, 3f, 2f, 2f, 2f, 0f];
        float[] row = (float[])logits.Clone();
        int kept = new TokenSampler(new SamplingOptions { TopK = 2 }, 6).Filter(row, []);
        Assert.That(kept, Is.EqualTo(4));
        Assert.That(row, Is.EqualTo(new[] { float.NegativeInfinity, 3f, 2f, 2f, 2f, float.NegativeInfinity }));
    }

    [Test]
    public void GreedyIsArgMaxWithTheFirstIndexOnTies()
    {
        var greedy = new TokenSampler(new SamplingOptions { TopK = 1 }, 6);
        Assert.That(greedy.Sample(new float[] { 0f, 5f, 1f, 5f, -1f, 5f }, []), Is.EqualTo(1));
        greedy = new TokenSampler(new SamplingOptions { TopK = 1 }, Vocab);
        var rng = new Random(5);
        for (int t = 0; t < 50; t++)
        {
            float[] logits = RandomLogits(rng, Vocab, ties: t % 2 == 0, negInf: 5);
            int expected = Enumerable.Range(0, Vocab).First(i => logits[i] == logits.Max());
            Assert.That(greedy.Sample((float[])logits.Clone(), []), Is.EqualTo(expected));
        }
    }

    [Test]
    public void TemperatureZeroIsGreedy()
    {
        var sampler = new TokenSampler(new SamplingOptions { Temperature = 0f, TopK = -100 }, 4);
        Assert.That(sampler.Options.IsGreedy);
        Assert.That(sampler.Sample(new float[] { 0f, 1f, 3f, 2f }, []), Is.EqualTo(2));
        float[] row = [0f, 3f, 1f, 3f];
        Assert.That(sampler.Filter(row, []), Is.EqualTo(2), "filters like top_k=1: the ties of the maximum");
        Assert.That(row, Is.EqualTo(new[] { float.NegativeInfinity, 3f, float.NegativeInfinity, 3f }));
    }

    [Test]
    public void SameSeedReproducesTheSameTokensAndOtherSeedsDiffer()
    {
        float[] logits = RandomLogits(new Random(1), Vocab, ties: false, negInf: 0);
        int[] Run(ulong seed)
        {
            var s = new TokenSampler(new SamplingOptions { TopK = 50, TopP = 0.95f, Temperature = 1.3f, Seed = seed }, Vocab);
            return Enumerable.Range(0, 300).Select(_ => s.Sample((float[])logits.Clone(), [])).ToArray();
        }
        Assert.That(Run(42), Is.EqualTo(Run(42)));
        Assert.That(Run(43), Is.Not.EqualTo(Run(42)));
        Assert.That(new TokenSampler(new SamplingOptions { Seed = 9 }, 3).Seed, Is.EqualTo(9UL));
    }

    [TestCaseSource(typeof(SamplerSpecReference), nameof(SamplerSpecReference.Cases))]
    public void SampleFollowsTheSpecificationExactly(SamplingOptions options)
    {
        const ulong seed = 0x1234_5678_9abc_def0UL;
        var rng = new Random(91);
        for (int r = 0; r < 64; r++)
        {
            float[] logits = RandomLogits(rng, Vocab, ties: r % 2 == 0, negInf: r % 5);
            int[] history = Enumerable.Range(0, rng.Next(40)).Select(_ => rng.Next(Vocab + 1)).ToArray();
            ulong step = (ulong)r * 0x9_0000_1f3fUL; // crosses into the counter's high word
            uint stream = (uint)(r % 3);
            var sampler = new TokenSampler(options with { Seed = seed }, Vocab, stream) { Step = step };
            int expected = SamplerSpecReference.Sample(logits, options, seed, step, stream, history);
            Assert.That(sampler.Sample((float[])logits.Clone(), history), Is.EqualTo(expected), $"row {r}");
            Assert.That(sampler.Step, Is.EqualTo(step + 1), "every call advances the step, greedy included");
        }
    }

    [Test]
    public void ADrawDependsOnTheSeedAndStepOnly()
    {
        // Counter-based: the 6th token of a sequence is the token a fresh sampler draws at step 5, whatever came
        // before (so nothing about threads, batches or earlier rows can shift it).
        var options = new SamplingOptions { TopK = 40, Temperature = 1.4f, Seed = 77 };
        float[] logits = RandomLogits(new Random(4), Vocab, ties: false, negInf: 0);
        var sequence = new TokenSampler(options, Vocab);
        int[] tokens = Enumerable.Range(0, 12).Select(_ => sequence.Sample((float[])logits.Clone(), [])).ToArray();
        for (int step = 0; step < tokens.Length; step++)
        {
            var fresh = new TokenSampler(options, Vocab) { Step = (ulong)step };
            Assert.That(fresh.Sample((float[])logits.Clone(), []), Is.EqualTo(tokens[step]), $"step {step}");
        }
        Assert.That(tokens.Distinct().Count(), Is.GreaterThan(1), "the steps draw different numbers");
    }

    [Test]
    public void SamplingFrequenciesMatchTheFilteredSoftmax(
        [Values(1f, 0.6f)] float temperature, [Values(-100, 12)] int topK, [Values(1f, 0.8f)] float topP)
    {
        const int v = 40, draws = 60_000;
        float[] logits = RandomLogits(new Random(17), v, ties: false, negInf: 3);
        var options = new SamplingOptions { TopK = topK, TopP = topP, Temperature = temperature, Seed = 1234 };
        double[] p = UpstreamFilterReference.Softmax(
            UpstreamFilterReference.Filter(logits, topK, topP, temperature));

        var sampler = new TokenSampler(options, v);
        var counts = new int[v];
        var row = new float[v];
        for (int n = 0; n < draws; n++)
        {
            logits.CopyTo(row, 0);
            counts[sampler.Sample(row, [])]++;
        }

        double chi2 = 0;
        int cells = 0;
        for (int i = 0; i < v; i++)
        {
            if (p[i] == 0) { Assert.That(counts[i], Is.Zero, $"filtered token {i} was drawn"); continue; }
            double expected = p[i] * draws;
            chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
            cells++;
        }
        int df = Math.Max(cells - 1, 1);
        // Generous: the mean is df and the standard deviation sqrt(2 df); 6 deviations is far beyond chance.
        Assert.That(chi2, Is.LessThan(df + 6 * Math.Sqrt(2.0 * df)), $"chi2 {chi2:F1} over {df} degrees of freedom");
    }

    [Test]
    public void RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOncePerToken()
    {
        var sampler = new TokenSampler(new SamplingOptions { RepetitionPenalty = 2f, RepetitionWindow = 4, TopK = -1 }, 6);
        float[] row = [4f, -1f, 2f, 3f, 1f, 0f];
        // Window = the last 4 tokens: 1, 3, 3, 9 (token 0 is outside the window; 9 is outside the vocabulary).
        sampler.Filter(row, [0, 1, 3, 3, 9]);
        Assert.That(row, Is.EqualTo(new[] { 4f, -2f, 2f, 1.5f, 1f, 0f }));
    }

    [Test]
    public void RepetitionPenaltyChangesTheGreedyPick()
    {
        var sampler = new TokenSampler(new SamplingOptions { TopK = 1, RepetitionPenalty = 3f, RepetitionWindow = 8 }, 3);
        Assert.That(sampler.Sample(new float[] { 1f, 2f, 0.5f }, [1]), Is.EqualTo(0));
    }

    [Test]
    public void NegativeInfinityIsNeverSampledAndBadRowsAreClearErrors()
    {
        var sampler = new TokenSampler(new SamplingOptions { Seed = 1 }, 4);
        for (int n = 0; n < 200; n++)
            Assert.That(sampler.Sample(new[] { float.NegativeInfinity, 0f, float.NegativeInfinity, 0f }, []), Is.AnyOf(1, 3));

        var e = Assert.Throws<InvalidInputException>(() => sampler.Sample(new[] { 0f, float.NaN, 1f, 2f }, []));
        Assert.That(e!.Message, Does.Contain("NaN"));
        Assert.Throws<InvalidInputException>(() => sampler.Sample(new[] { 0f, float.PositiveInfinity, 1f, 2f }, []));
        var all = Enumerable.Repeat(float.NegativeInfinity, 4).ToArray();
        Assert.Throws<InvalidInputException>(() => sampler.Sample((float[])all.Clone(), []));
        var greedy = new TokenSampler(new SamplingOptions { TopK = 1 }, 4);
        Assert.Throws<InvalidInputException>(() => greedy.Sample((float[])all.Clone(), []));
        Assert.Throws<InvalidInputException>(() => greedy.Sample(new[] { 0f, float.NaN, 1f, 2f }, []));
    }

    [Test]
    public void InvalidOptionsAreArgumentErrorsNamingTheProperty()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenSampler(new SamplingOptions { Temperature = -0.5f }, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenSampler(new SamplingOptions { Temperature = float.NaN }, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenSampler(new SamplingOptions { TopP = float.NaN }, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenSampler(new SamplingOptions { MinP = 1.5f }, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenSampler(new SamplingOptions { RepetitionPenalty = 0f }, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenSampler(new SamplingOptions { RepetitionWindow = -1 }, 8));
        Assert.Throws<ArgumentException>(() => new TokenSampler(new SamplingOptions(), 8).Sample(new float[7], []));
    }

    [Test]
    public void SampleDoesNotAllocate()
    {
        var sampler = new TokenSampler(new SamplingOptions
        {
            TopK = 50, TopP = 0.9f, Temperature = 0.8f, MinP = 0.01f, RepetitionPenalty = 1.2f, RepetitionWindow = 16, Seed = 3,
        }, Vocab);
        float[] logits = RandomLogits(new Random(2), Vocab, ties: true, negInf: 4);
        var row = new float[Vocab];
        int[] recent = Enumerable.Range(0, 32).ToArray();
        for (int n = 0; n < 10; n++) { logits.CopyTo(row, 0); sampler.Sample(row, recent); } // warm up (JIT, tiering)
        Assert.That(Allocations.SteadyState(_ => { logits.CopyTo(row, 0); sampler.Sample(row, recent); }, calls: 500), Is.Zero);
    }
}
