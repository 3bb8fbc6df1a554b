using VallE.Runtime.Cuda;
using VallE.Runtime.Sampling;
using VallE.Tests.Sampling;
using static VallE.Tests.Cuda.CudaTestSupport;

namespace VallE.Tests.Cuda;

/// <summary>Device argmax and sampler against the CPU sampler and the written specification (GPU only).</summary>
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

    /// <summary>
    /// One specification for both devices: for the same logits, history, seed and counter, the device picks the
    /// token the CPU TokenSampler picks (row r of the call is Philox stream r; the counter is the sampler's step).
    /// Logits are float32 on both sides; only a draw within float32 summation rounding of a boundary could differ.
    /// </summary>
    [TestCaseSource(typeof(SamplerSpecReference), nameof(SamplerSpecReference.Cases))]
    public void Sample_EqualsTheCpuSamplerForTheSameSeed(SamplingOptions options)
    {
        var d = RequireDevice();
        const int rows = 64, vocab = 1025, historyCapacity = 40;
        const ulong seed = 0x1234_5678_9abc_def0UL;
        float[] logits = Random(rows * vocab, 91, 4f);
        int[] history = RandomInts(rows * historyCapacity, 92, vocab);
        int[] lengths = RandomInts(rows, 93, historyCapacity);
        // Some counters beyond 2^32: the step's high word is Philox counter word 1.
        ulong[] counters = Enumerable.Range(0, rows).Select(r => (ulong)(r * 7919 + 3) << (r % 2 == 0 ? 0 : 29)).ToArray();

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
            int[] recent = history.AsSpan(r * historyCapacity, lengths[r]).ToArray();
            Assert.That(argmax[r], Is.EqualTo(TokenSampler.ArgMax(row)), $"argmax row {r}");
            var cpu = new TokenSampler(options with { Seed = seed }, vocab, stream: (uint)r) { Step = counters[r] };
            Assert.That(tokens[r], Is.EqualTo(cpu.Sample(row.ToArray(), recent)), $"GPU vs CPU token, row {r}");
            Assert.That(tokens[r], Is.EqualTo(SamplerSpecReference.Sample(row.ToArray(), options, seed, counters[r], (uint)r, recent)),
                $"GPU vs the written specification, row {r}");
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
}
