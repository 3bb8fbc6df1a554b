using System.Text.Json;
using VallE.Runtime.Sampling;
using VallE.Tests.Support;

namespace VallE.Tests.Ecker;

/// <summary>
/// <see cref="EckerSampler"/> against <c>ecker-sampler.json</c> (beside this file), written by our float64 PyTorch
/// reference of upstream's order (<c>bench/reference/ecker_sampler_reference.py</c>, from e-c-k-e-r/vall-e 73833ee's
/// <c>Base.sample</c> / <c>samplers.py</c> semantics): the distribution each row is drawn from, its support, the argmax
/// and NAR-len's score. Then the draw itself: reproducible by seed, distributed as the softmax, allocation-free.
/// </summary>
public class EckerSamplerTests
{
    private static string FixturePath => Path.Combine(TestPaths.RepoRoot, "tests", "VallE.Tests", "Ecker", "ecker-sampler.json");

    internal sealed record Case(string Name, bool Ar, int Rows, int Vocab, int Stop, int[] Previous, EckerSamplingOptions Options,
        float Temperature, float MinTemperature, float[] Logits, double[] Probs, int[] ArgMax, double[] Scores, int[] Kept);

    internal static IReadOnlyList<Case> Cases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(FixturePath));
        var cases = new List<Case>();
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            var o = c.GetProperty("options");
            float F(string name) => (float)o.GetProperty(name).GetDouble();
            float t = F("temperature"), tMin = F("min_temperature");
            bool ar = c.GetProperty("mode").GetString() == "ar";
            // The reference's (temperature, min_temperature) are the stage's: the AR's or the NAR's.
            var options = new EckerSamplingOptions
            {
                ArTemperature = ar ? t : 0f, NarTemperature = ar ? 0f : t, MinArTemperature = ar ? tMin : -1f, MinNarTemperature = ar ? -1f : tMin,
                TopK = o.GetProperty("top_k").GetInt32(), TopP = F("top_p"), MinP = F("min_p"), RepetitionPenalty = F("repetition_penalty"),
                RepetitionPenaltyDecay = F("repetition_penalty_decay"), LengthPenalty = F("length_penalty"), Seed = 1,
            };
            cases.Add(new Case(c.GetProperty("name").GetString()!, ar, c.GetProperty("rows").GetInt32(), c.GetProperty("vocab").GetInt32(),
                c.GetProperty("stop").GetInt32(), Ints(c, "previous"), options, t, tMin,
                c.GetProperty("logits").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray(),
                c.GetProperty("probs").EnumerateArray().Select(v => v.GetDouble()).ToArray(), Ints(c, "argmax"),
                c.GetProperty("scores").EnumerateArray().Select(v => v.GetDouble()).ToArray(), Ints(c, "kept")));
        }
        return cases;
    }

    private static int[] Ints(JsonElement e, string name) => e.GetProperty(name).EnumerateArray().Select(v => v.GetInt32()).ToArray();

    /// <summary>Filter → score → Temper → distribution, row by row, as the model does.</summary>
    private static (double[] Probs, int[] ArgMax, float[] Scores) Run(Case c)
    {
        var sampler = new EckerSampler(c.Options, c.Vocab);
        var probs = new double[c.Rows * c.Vocab];
        var argmax = new int[c.Rows];
        var scores = new float[c.Rows];
        for (int r = 0; r < c.Rows; r++)
        {
            float[] row = c.Logits.AsSpan(r * c.Vocab, c.Vocab).ToArray();
            sampler.Filter(row, c.Previous, c.Rows, r, c.Ar ? c.Stop : -1);
            (argmax[r], scores[r]) = EckerSampler.ArgMaxScore(row, c.MinTemperature);
            EckerSampler.Temper(row, c.Temperature, c.MinTemperature);
            EckerSampler.Probabilities(row, c.Temperature, probs.AsSpan(r * c.Vocab, c.Vocab));
        }
        return (probs, argmax, scores);
    }

    [Test]
    public void DistributionsMatchTheFloat64ReferenceOfUpstreamsOrder()
    {
        var cases = Cases();
        Assert.That(cases, Has.Count.GreaterThanOrEqualTo(20));
        double worst = 0;
        foreach (var c in cases)
        {
            var (probs, argmax, scores) = Run(c);
            for (int r = 0; r < c.Rows; r++)
            {
                var row = probs.AsSpan(r * c.Vocab, c.Vocab);
                // The support (what the filters kept) must be the reference's exactly; then the values.
                Assert.That(row.ToArray().Count(p => p > 0), Is.EqualTo(c.Kept[r]), $"{c.Name} row {r}: tokens kept");
                for (int i = 0; i < c.Vocab; i++)
                {
                    double expected = c.Probs[r * c.Vocab + i];
                    Assert.That(row[i] > 0, Is.EqualTo(expected > 0), $"{c.Name} row {r} token {i}: kept");
                    Assert.That(row[i], Is.EqualTo(expected).Within(1e-6), $"{c.Name} row {r} token {i}");
                    worst = Math.Max(worst, Math.Abs(row[i] - expected));
                }
                Assert.That(argmax[r], Is.EqualTo(c.ArgMax[r]), $"{c.Name} row {r}: argmax");
                Assert.That(scores[r], Is.EqualTo(c.Scores[r]).Within(1e-6), $"{c.Name} row {r}: NAR-len score");
            }
        }
        TestContext.Out.WriteLine($"{cases.Count} cases, max |p - p_ref| = {worst:E2}");
    }

    [Test]
    public void DefaultsAtTemperatureZeroAreTheArgmaxOfTheRawLogits()
    {
        var random = new Random(3);
        foreach (var options in new[] { EckerSamplingOptions.Greedy, EckerSamplingOptions.Greedy with { TopK = 3, TopP = 0.2f, MinP = 0.5f } })
        {
            var sampler = new EckerSampler(options, 1025);
            var row = new float[1025];
            for (int step = 0; step < 50; step++)
            {
                for (int i = 0; i < row.Length; i++) row[i] = (float)(random.NextDouble() * 20 - 10);
                int expected = TokenSampler.ArgMax(row);
                Assert.That(sampler.SampleAr(row, [1, 2, 3], stopToken: 1024, (ulong)step), Is.EqualTo(expected));
            }
        }
    }

    [Test]
    public void DrawsFollowTheDistributionAndReproduceBySeed()
    {
        var c = Cases().First(x => x.Name == "min-p + top-k + top-p");
        var sampler = new EckerSampler(c.Options with { Seed = 77 }, c.Vocab);
        float[] row = c.Logits.ToArray();
        sampler.Filter(row, c.Previous, 1, 0, c.Stop);
        EckerSampler.Temper(row, c.Temperature, c.MinTemperature);
        const int draws = 40000;
        var counts = new int[c.Vocab];
        for (int step = 0; step < draws; step++) counts[sampler.Pick(row, c.Temperature, (ulong)step, stream: 0)]++;

        // Chi-square over the kept tokens, those expected fewer than 5 times pooled; no draw outside the support.
        double chi = 0, pooledExpected = 0;
        int pooledCount = 0, categories = 0;
        for (int i = 0; i < c.Vocab; i++)
        {
            double expected = c.Probs[i] * draws;
            if (c.Probs[i] == 0)
            {
                Assert.That(counts[i], Is.Zero, $"token {i} was filtered out but drawn");
                continue;
            }
            if (expected < 5)
            {
                pooledExpected += expected;
                pooledCount += counts[i];
                continue;
            }
            chi += (counts[i] - expected) * (counts[i] - expected) / expected;
            categories++;
        }
        if (pooledExpected > 0)
        {
            chi += (pooledCount - pooledExpected) * (pooledCount - pooledExpected) / pooledExpected;
            categories++;
        }
        int df = categories - 1;
        TestContext.Out.WriteLine($"chi-square {chi:F1} with {df} degrees of freedom");
        Assert.That(chi, Is.LessThan(df + 6 * Math.Sqrt(2.0 * df)), "draws do not follow the distribution");

        // The same seed, step and stream give the same token; another seed another sequence.
        var again = new EckerSampler(c.Options with { Seed = 77 }, c.Vocab);
        var other = new EckerSampler(c.Options with { Seed = 78 }, c.Vocab);
        int[] a = Enumerable.Range(0, 200).Select(s => sampler.Pick(row, c.Temperature, (ulong)s, 0)).ToArray();
        Assert.That(Enumerable.Range(0, 200).Select(s => again.Pick(row, c.Temperature, (ulong)s, 0)), Is.EqualTo(a));
        Assert.That(Enumerable.Range(0, 200).Select(s => other.Pick(row, c.Temperature, (ulong)s, 0)), Is.Not.EqualTo(a));
        Assert.That(Enumerable.Range(0, 200).Select(s => sampler.Pick(row, c.Temperature, (ulong)s, 1)), Is.Not.EqualTo(a), "another stream");
    }

    [Test]
    public void SamplingARowDoesNotAllocate()
    {
        var options = new EckerSamplingOptions
        {
            ArTemperature = 0.9f, NarTemperature = 0.7f, MinArTemperature = 0.2f, TopK = 50, TopP = 0.9f, MinP = 0.01f, RepetitionPenalty = 1.3f,
            RepetitionPenaltyDecay = 0.5f, LengthPenalty = 0.2f, Seed = 9,
        };
        var sampler = new EckerSampler(options, 1025);
        var nar = new EckerSampler(options, 1024);
        var random = new Random(1);
        var source = Enumerable.Range(0, 1025).Select(_ => (float)(random.NextDouble() * 16 - 8)).ToArray();
        var row = new float[1025];
        var history = Enumerable.Range(0, 300).Select(i => i * 7 % 1024).ToArray();
        var logits = new float[8 * 1024];
        var previous = history[..8];
        var tokens = new int[8];
        void Once(int step)
        {
            source.CopyTo(row, 0);
            sampler.SampleAr(row, history, 1024, (ulong)step);
            for (int r = 0; r < 8; r++) source.AsSpan(0, 1024).CopyTo(logits.AsSpan(r * 1024));
            nar.SampleNar(logits, previous, 1, tokens);
        }
        Once(0); // warm up (JIT, tiered compilation)
        Assert.That(Allocations.SteadyState(step => Once(step + 1), calls: 199), Is.Zero);
    }

    [Test]
    public void OptionChecksNameTheProperty()
    {
        foreach (var (options, property) in new (EckerSamplingOptions, string)[]
                 {
                     (new() { ArTemperature = -1f }, "ArTemperature"), (new() { NarTemperature = float.NaN }, "NarTemperature"),
                     (new() { MinArTemperature = float.PositiveInfinity }, "MinArTemperature"), (new() { TopP = 1.5f }, "TopP"),
                     (new() { MinP = -0.1f }, "MinP"), (new() { RepetitionPenalty = 0f }, "RepetitionPenalty"),
                     (new() { RepetitionPenaltyDecay = float.NaN }, "RepetitionPenaltyDecay"), (new() { LengthPenalty = float.NegativeInfinity }, "LengthPenalty"),
                 })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(options.Validate)!;
            Assert.That(e.ParamName, Is.EqualTo(property));
            Assert.That(e.Message, Does.StartWith(property + " "));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => EckerSamplingOptions.FromValle(new SamplingOptions { RepetitionWindow = 4 }));
        var mapped = EckerSamplingOptions.FromValle(new SamplingOptions { Temperature = 0.8f, TopK = 7, TopP = 0.9f, MinP = 0.1f, RepetitionPenalty = 1.2f, Seed = 4 }, 0.3f);
        Assert.That(mapped, Is.EqualTo(new EckerSamplingOptions
        {
            ArTemperature = 0.8f, NarTemperature = 0.3f, TopK = 7, TopP = 0.9f, MinP = 0.1f, RepetitionPenalty = 1.2f, Seed = 4,
        }));
    }
}
