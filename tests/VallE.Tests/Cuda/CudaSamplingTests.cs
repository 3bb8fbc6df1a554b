using VallE.Runtime.Cuda;
using VallE.Runtime.Sampling;
using static VallE.Tests.Cuda.CudaTestSupport;

namespace VallE.Tests.Cuda;

/// <summary>Device argmax and sampler against a CPU reference of the documented algorithm (GPU only).</summary>
[TestFixture]
public class CudaSamplingTests
{
    [Test]
    public void ArgMax_FirstIndexOnTies([Values(CudaDType.F32, CudaDType.BF16)] CudaDType dtype)
    {
        foreach (int rows in new[] { 1, 4 })
            foreach (int vocab in new[] { 7, 1025, 5000 })
                ArgMax(dtype, rows, vocab);
    }

    private static void ArgMax(CudaDType dtype, int rows, int vocab)
    {
        var d = RequireDevice();
        float[] logits = Quantize(Random(rows * vocab, 90, 5f), dtype);
        for (int r = 0; r < rows; r++)
        {
            logits[r * vocab + Math.Min(5, vocab - 1)] = 9f;
            logits[r * vocab + vocab - 1] = 9f;
        }
        using var lb = UploadAs(d, logits, dtype);
        using var ob = d.Allocate<int>(rows);
        CudaKernels.ArgMax(d, dtype, lb.Pointer, rows, vocab, vocab, ob.Pointer);
        int[] got = ob.Download<int>(rows);
        for (int r = 0; r < rows; r++)
            Assert.That(got[r], Is.EqualTo(TokenSampler.ArgMax(logits.AsSpan(r * vocab, vocab))), $"{dtype} vocab {vocab} row {r}");
    }

    private static readonly SamplingOptions[] OptionCases =
    [
        new() { TopK = -100, Temperature = 1f },
        new() { TopK = 10, Temperature = 0.7f },
        new() { TopK = -100, TopP = 0.8f, Temperature = 1.3f },
        new() { TopK = 50, TopP = 0.5f, Temperature = 1f },
        new() { MinP = 0.1f },
        new() { TopK = 20, MinP = 0.05f, TopP = 0.9f, RepetitionPenalty = 1.3f, RepetitionWindow = 16 },
        new() { RepetitionPenalty = 0.7f, RepetitionWindow = 1000 },
        new() { TopK = 1, RepetitionPenalty = 3f, RepetitionWindow = 8 },
    ];

    [TestCaseSource(nameof(OptionCases))]
    public void Sample_MatchesCpuReferenceExactly(SamplingOptions options)
    {
        var d = RequireDevice();
        const int rows = 64, vocab = 1025, historyCapacity = 40;
        const ulong seed = 0x1234_5678_9abc_def0UL;
        float[] logits = Random(rows * vocab, 91, 4f);
        int[] history = RandomInts(rows * historyCapacity, 92, vocab);
        int[] lengths = RandomInts(rows, 93, historyCapacity);
        ulong[] counters = Enumerable.Range(0, rows).Select(r => (ulong)(r * 7919 + 3)).ToArray();

        using var lb = d.Upload<float>(logits);
        using var hb = d.Upload<int>(history);
        using var lenb = d.Upload<int>(lengths);
        using var cb = d.Upload<ulong>(counters);
        using var tb = d.Allocate<int>(rows);
        using var ab = d.Allocate<int>(rows);
        CudaKernels.Sample(d, CudaDType.F32, lb.Pointer, rows, vocab, vocab, options, seed, hb.Pointer, historyCapacity,
            lenb.Pointer, cb.Pointer, tb.Pointer, ab.Pointer);
        int[] tokens = tb.Download<int>(rows), argmax = ab.Download<int>(rows);
        int[] newLengths = lenb.Download<int>(rows), newHistory = hb.Download<int>(rows * historyCapacity);
        ulong[] newCounters = cb.Download<ulong>(rows);

        for (int r = 0; r < rows; r++)
        {
            var row = logits.AsSpan(r * vocab, vocab);
            Assert.That(argmax[r], Is.EqualTo(TokenSampler.ArgMax(row)), $"argmax row {r}");
            int expected = ReferenceSample(row.ToArray(), options, seed, counters[r], (uint)r,
                history.AsSpan(r * historyCapacity, lengths[r]).ToArray());
            Assert.That(tokens[r], Is.EqualTo(expected), $"token row {r}");
            Assert.That(newLengths[r], Is.EqualTo(lengths[r] + 1));
            Assert.That(newHistory[r * historyCapacity + lengths[r]], Is.EqualTo(tokens[r]), "token recorded in the history");
            Assert.That(newCounters[r], Is.EqualTo(counters[r] + 1));
        }
    }

    [Test]
    public void Sample_FollowsTheDistribution()
    {
        var d = RequireDevice();
        const int rows = 8192, vocab = 4;
        float[] row = [2f, 1f, 0f, -1f];
        float[] logits = Enumerable.Range(0, rows).SelectMany(_ => row).ToArray();
        using var lb = d.Upload<float>(logits);
        using var cb = d.Upload<ulong>(new ulong[rows]);
        using var tb = d.Allocate<int>(rows);
        // Every row has the same counter but its own row index in the Philox counter: independent draws.
        CudaKernels.Sample(d, CudaDType.F32, lb.Pointer, rows, vocab, vocab, new SamplingOptions(), 42, 0, 0, 0, cb.Pointer, tb.Pointer, 0);
        int[] tokens = tb.Download<int>(rows);
        double z = row.Sum(v => Math.Exp(v));
        for (int t = 0; t < vocab; t++)
        {
            double p = Math.Exp(row[t]) / z, observed = tokens.Count(x => x == t) / (double)rows;
            double sigma = Math.Sqrt(p * (1 - p) / rows);
            Assert.That(Math.Abs(observed - p), Is.LessThan(5 * sigma), $"token {t}: p={p:F4}, observed {observed:F4}");
        }
    }

    [Test]
    public void Sample_GreedyIsArgMax_AndReplaysDeterministically()
    {
        var d = RequireDevice();
        const int rows = 3, vocab = 1025;
        float[] logits = Random(rows * vocab, 94, 3f);
        using var lb = d.Upload<float>(logits);
        using var tb = d.Allocate<int>(rows);
        CudaKernels.Sample(d, CudaDType.F32, lb.Pointer, rows, vocab, vocab, new SamplingOptions { TopK = 1 }, 1, 0, 0, 0, 0, tb.Pointer, 0);
        int[] greedy = tb.Download<int>(rows);
        for (int r = 0; r < rows; r++) Assert.That(greedy[r], Is.EqualTo(TokenSampler.ArgMax(logits.AsSpan(r * vocab, vocab))));

        // Without a counter buffer every call draws with counter 0: identical results.
        CudaKernels.Sample(d, CudaDType.F32, lb.Pointer, rows, vocab, vocab, new SamplingOptions(), 7, 0, 0, 0, 0, tb.Pointer, 0);
        int[] first = tb.Download<int>(rows);
        CudaKernels.Sample(d, CudaDType.F32, lb.Pointer, rows, vocab, vocab, new SamplingOptions(), 7, 0, 0, 0, 0, tb.Pointer, 0);
        Assert.That(tb.Download<int>(rows), Is.EqualTo(first));
    }

    /// <summary>The algorithm of valle_sample (valle_kernels.h), step by step, sequential on the CPU.</summary>
    private static int ReferenceSample(float[] logits, SamplingOptions o, ulong seed, ulong counter, uint row, int[] history)
    {
        int vocab = logits.Length;
        var l = (float[])logits.Clone();
        if (o.RepetitionPenalty != 1f && o.RepetitionWindow > 0)
        {
            var seen = new HashSet<int>(history.Skip(Math.Max(0, history.Length - o.RepetitionWindow)));
            foreach (int t in seen) l[t] = l[t] > 0 ? l[t] / o.RepetitionPenalty : l[t] * o.RepetitionPenalty;
        }
        if (o.IsGreedy) return TokenSampler.ArgMax(l);
        if (o.Temperature != 1f) for (int i = 0; i < vocab; i++) l[i] /= o.Temperature;
        int[] order = Enumerable.Range(0, vocab).OrderByDescending(i => l[i]).ThenBy(i => i).ToArray();
        int keep = vocab;
        if (o.TopK > 0 && o.TopK < vocab)
        {
            float kth = l[order[o.TopK - 1]];
            keep = order.Count(i => l[i] >= kth);
        }
        float max = l[order[0]];
        var e = new float[vocab];
        for (int i = 0; i < keep; i++) e[i] = MathF.Exp(l[order[i]] - max);
        var prefix = new float[vocab];
        float run = 0;
        for (int i = 0; i < vocab; i++) prefix[i] = run += e[i];
        int kept = keep;
        if (o.MinP > 0)
        {
            int count = 0;
            while (count < keep && e[count] >= o.MinP) count++;
            kept = Math.Min(kept, o.MinP > 1 ? 1 : count);
        }
        if (o.TopP < 1)
        {
            float total = prefix[keep - 1];
            for (int i = 0; i < keep; i++)
            {
                float before = i > 0 ? prefix[i - 1] / total : 0f;
                if (before <= o.TopP && prefix[i] / total > o.TopP) { kept = Math.Min(kept, i + 1); break; }
            }
        }
        kept = Math.Max(1, kept);
        var r = PhiloxReference.Generate(seed, (uint)counter, (uint)(counter >> 32), row, 0);
        float target = (r.X >> 8) * (1f / 16777216f) * prefix[kept - 1];
        for (int i = 0; i < kept; i++)
            if (prefix[i] > target) return order[i];
        return order[kept - 1];
    }
}
