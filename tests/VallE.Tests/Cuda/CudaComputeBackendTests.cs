using VallE.Runtime.Backends;
using VallE.Runtime.Cpu;
using VallE.Runtime.Cuda;
using VallE.Runtime.Models;
using VallE.Runtime.Sampling;
using static VallE.Tests.Cuda.CudaTestSupport;

namespace VallE.Tests.Cuda;

/// <summary>
/// CUDA specifics of <see cref="CudaComputeBackend"/>: what it supports and why not, its host-side rules (AdaLN stage
/// pairs, slot batching, seeds, the host conv), and on a GPU every op against float64/CPU references, decode attention
/// with slots out of order, the step graph's recording and replay, and the conv host fallback. The op-table test over
/// both backends lives elsewhere.
/// </summary>
[TestFixture]
public class CudaComputeBackendTests
{
    // ---- host only --------------------------------------------------------------------------------------------

    [Test]
    public void Supports_Fp32LinearOnly_WithReasons()
    {
        Assert.That(CudaComputeBackend.SupportsOp(new OpRequirement(OpKind.Linear), out _), Is.True);
        Assert.That(CudaComputeBackend.SupportsOp(new OpRequirement(OpKind.Linear, WeightsDType.BF16), out string bf16), Is.False);
        Assert.That(bf16, Does.Contain("fp32").And.Contain("bf16"));
        Assert.That(CudaComputeBackend.SupportsOp(new OpRequirement(OpKind.Linear, WeightsDType.Int8), out string int8), Is.False);
        Assert.That(int8, Does.Contain("fp32").And.Contain("int8"));
    }

    [Test]
    public void Supports_HeadSizeUpTo128_VocabularyUpToTheSamplerLimit_ConvOnTheHost()
    {
        foreach (var op in new[] { OpKind.Attention, OpKind.AttentionDecode })
        {
            Assert.That(CudaComputeBackend.SupportsOp(new OpRequirement(op, HeadDim: 64), out _), Is.True);
            Assert.That(CudaComputeBackend.SupportsOp(new OpRequirement(op, HeadDim: 128), out _), Is.True);
            Assert.That(CudaComputeBackend.SupportsOp(new OpRequirement(op, HeadDim: 129), out string why), Is.False);
            Assert.That(why, Does.Contain("128").And.Contain("129"));
        }
        Assert.That(CudaComputeBackend.SupportsOp(new OpRequirement(OpKind.Sample, Vocab: 4096), out _), Is.True);
        Assert.That(CudaComputeBackend.SupportsOp(new OpRequirement(OpKind.Sample, Vocab: 4097), out string sample), Is.False);
        Assert.That(sample, Does.Contain("4096"));
        Assert.That(CudaComputeBackend.SupportsOp(new OpRequirement(OpKind.ArgMax, Vocab: 100_000), out _), Is.True);
        Assert.That(CudaComputeBackend.SupportsOp(new OpRequirement(OpKind.Conv), out _), Is.True);
    }

    [Test]
    public void AdaLnStages_AreOneBased_PlainNormsIgnoreTheStage()
    {
        Assert.That(CudaNorm.PairIndex(0, 0), Is.EqualTo(-1));
        Assert.That(CudaNorm.PairIndex(0, 5), Is.EqualTo(-1));
        Assert.That(CudaNorm.PairIndex(7, 1), Is.EqualTo(0));
        Assert.That(CudaNorm.PairIndex(7, 7), Is.EqualTo(6));
        Assert.Throws<ArgumentOutOfRangeException>(() => CudaNorm.PairIndex(7, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => CudaNorm.PairIndex(7, 8));
    }

    [Test]
    public void DecodeSlots_IdentityIsBatched_DuplicatesAreRefused()
    {
        Assert.That(CudaComputeBackend.IsIdentity([0, 1, 2]), Is.True);
        Assert.That(CudaComputeBackend.IsIdentity([]), Is.True);
        Assert.That(CudaComputeBackend.IsIdentity([1, 0]), Is.False);
        Assert.That(CudaComputeBackend.IsIdentity([0, 2]), Is.False);
        Assert.DoesNotThrow(() => CudaComputeBackend.CheckDistinct([2, 0, 1]));
        Assert.Throws<ArgumentException>(() => CudaComputeBackend.CheckDistinct([2, 0, 2]));
    }

    [Test]
    public void SamplerSeeds_FollowTokenSampler()
    {
        Assert.That(CudaSamplers.SeedOf(new SamplingOptions { Seed = 1234 }), Is.EqualTo(1234UL));
        // No seed: a random one (two draws of 64 bits agree with probability 2^-64).
        Assert.That(CudaSamplers.SeedOf(new SamplingOptions()), Is.Not.EqualTo(CudaSamplers.SeedOf(new SamplingOptions())));
    }

    // ---- GPU: ops against references ----------------------------------------------------------------------

    private static CudaComputeBackend Backend() => new(RequireDevice());

    private static Tensor Upload(IComputeBackend b, float[] values, int rows, int cols)
    {
        var t = b.Allocate(TensorType.F32, rows, cols);
        b.Write(t.All, values);
        return t;
    }

    private static Tensor Upload(IComputeBackend b, int[] values, int rows, int cols)
    {
        var t = b.Allocate(TensorType.I32, rows, cols);
        b.Write(t.All, values);
        return t;
    }

    private static float[] ReadF(IComputeBackend b, TensorRows rows)
    {
        var v = new float[rows.Elements];
        b.Read(rows, v);
        return v;
    }

    private static int[] ReadI(IComputeBackend b, TensorRows rows)
    {
        var v = new int[rows.Elements];
        b.Read(rows, v);
        return v;
    }

    [Test]
    public void GatherSum_OneTableAndSeveral()
    {
        using var b = Backend();
        const int dim = 40, rows = 7;
        float[] t0 = Random(11 * dim, 10), t1 = Random(13 * dim, 11);
        using var a = b.CreateTable("t0", t0, 11, dim);
        using var c = b.CreateTable("t1", t1, 13, dim);
        // Three id columns, two tables: the third column is not read.
        int[] ids = Enumerable.Range(0, rows).SelectMany(r => new[] { r % 11, (r * 5) % 13, 999 }).ToArray();
        using var idt = Upload(b, ids, rows, 3);
        using var one = Upload(b, Enumerable.Range(0, rows).Select(r => (r * 3) % 11).ToArray(), rows, 1);
        using var dst = b.Allocate(TensorType.F32, rows, dim);

        b.GatherSum([a], one.All, dst.All);
        var expected = new float[rows * dim];
        for (int r = 0; r < rows; r++) t0.AsSpan((r * 3) % 11 * dim, dim).CopyTo(expected.AsSpan(r * dim));
        AssertClose(ReadF(b, dst.All), expected, 0f, "one table");

        for (int round = 0; round < 2; round++)   // the second round reuses the cached pointer arrays
        {
            b.GatherSum([a, c], idt.All, dst.All);
            for (int r = 0; r < rows; r++)
                for (int i = 0; i < dim; i++)
                    expected[r * dim + i] = t0[ids[r * 3] * dim + i] + t1[ids[r * 3 + 1] * dim + i];
            AssertClose(ReadF(b, dst.All), expected, 1e-6f, "two tables");
        }
    }

    [Test]
    public void AddPositions_FromAFirstPositionAndFromAColumn()
    {
        using var b = Backend();
        const int dim = 33, rows = 5;
        const float alpha = 0.75f;
        float[] x = Random(rows * dim, 20);
        float[] w = SinePositions.Frequencies(dim);
        using var pos = b.CreatePositions("pe", dim, alpha);
        using var xt = Upload(b, x, rows, dim);
        b.AddPositions(pos, xt.Slice(1, 3), firstPosition: 17);
        var expected = (float[])x.Clone();
        for (int r = 1; r < 4; r++)
            for (int i = 0; i < dim; i++) expected[r * dim + i] += alpha * SinePe(17 + r - 1, i, w);
        AssertClose(ReadF(b, xt.All), expected, 1e-5f, "first position");

        int[] column = [300, 0, 5, 1000, 2];
        using var pt = Upload(b, column, rows, 1);
        b.AddPositions(pos, xt.All, pt.All);
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < dim; i++) expected[r * dim + i] += alpha * SinePe(column[r], i, w);
        AssertClose(ReadF(b, xt.All), expected, 1e-5f, "column of positions");
    }

    [Test]
    public void Linear_BiasAndRelu_AndWithoutBias()
    {
        using var b = Backend();
        const int rows = 6, inF = 24, outF = 17;
        float[] w = Random(outF * inF, 30), bias = Random(outF, 31), x = Random(rows * inF, 32);
        using var withBias = b.CreateLinear("l", w, bias, outF, inF, WeightsDType.F32);
        using var noBias = b.CreateLinear("l0", w, [], outF, inF, WeightsDType.F32);
        Assert.That(withBias.WeightBytes, Is.EqualTo(4L * outF * inF));
        using var xt = Upload(b, x, rows, inF);
        using var yt = b.Allocate(TensorType.F32, rows, outF);
        foreach (var (lin, act) in new[] { (withBias, Activation.Relu), (withBias, Activation.None), (noBias, Activation.None) })
        {
            b.Linear(lin, xt.All, yt.All, act);
            var expected = new float[rows * outF];
            for (int r = 0; r < rows; r++)
                for (int o = 0; o < outF; o++)
                {
                    double acc = lin.HasBias ? bias[o] : 0;
                    for (int i = 0; i < inF; i++) acc += (double)x[r * inF + i] * w[o * inF + i];
                    expected[r * outF + o] = act == Activation.Relu ? (float)Math.Max(0, acc) : (float)acc;
                }
            AssertClose(ReadF(b, yt.All), expected, 1e-5f, $"{lin.Name} {act}");
        }
        Assert.Throws<NotSupportedException>(() => b.CreateLinear("bf", w, bias, outF, inF, WeightsDType.BF16));
    }

    [Test]
    public void AddNormAndNorm_PlainAndAdaLn_InPlaceAndNot()
    {
        using var b = Backend();
        const int rows = 4, dim = 48;
        float[] gamma = Random(dim, 40), beta = Random(dim, 41), x = Random(rows * dim, 42, 3f), delta = Random(rows * dim, 43);
        float[][] stages = [Random(2 * dim, 44), Random(2 * dim, 45)];
        using var plain = b.CreateNorm("ln", gamma, beta, 1e-5f, null);
        using var ada = b.CreateNorm("ada", gamma, beta, 1e-5f, stages);

        float[] Reference(float[] input, float[]? pair)
        {
            var y = new float[input.Length];
            for (int r = 0; r < rows; r++)
            {
                var row = input.AsSpan(r * dim, dim);
                double mean = 0, var = 0;
                foreach (float v in row) mean += v;
                mean /= dim;
                foreach (float v in row) var += (v - mean) * (v - mean);
                double rstd = 1 / Math.Sqrt(var / dim + 1e-5);
                for (int i = 0; i < dim; i++)
                {
                    double n = (row[i] - mean) * rstd * gamma[i] + beta[i];
                    y[r * dim + i] = (float)(pair is null ? n : pair[i] * n + pair[dim + i]);
                }
            }
            return y;
        }

        float[] sum = x.Zip(delta, (p, q) => p + q).ToArray();
        using (var xt = Upload(b, x, rows, dim))
        using (var dt = Upload(b, delta, rows, dim))
        using (var yt = b.Allocate(TensorType.F32, rows, dim))
        {
            b.Norm(plain, 0, xt.All, yt.All);
            AssertClose(ReadF(b, yt.All), Reference(x, null), 1e-5f, "Norm");
            b.AddNorm(ada, 2, xt.All, dt.All, yt.All);
            AssertClose(ReadF(b, xt.All), sum, 1e-6f, "AddNorm updates x");
            AssertClose(ReadF(b, yt.All), Reference(sum, stages[1]), 1e-5f, "AddNorm AdaLN stage 2");
            Assert.Throws<ArgumentOutOfRangeException>(() => b.Norm(ada, 0, xt.All, yt.All));
        }
        using (var xt = Upload(b, x, rows, dim))
        using (var dt = Upload(b, delta, rows, dim))
        {
            b.AddNorm(plain, 0, xt.All, dt.All, xt.All);   // y = x: residual add, then the norm in place
            AssertClose(ReadF(b, xt.All), Reference(sum, null), 1e-5f, "AddNorm in place");
            b.Add(dt.All, dt.All);
            AssertClose(ReadF(b, dt.All), delta.Select(v => 2 * v).ToArray(), 0f, "Add");
            b.Norm(ada, 1, dt.All, dt.All);
            AssertClose(ReadF(b, dt.All), Reference(delta.Select(v => 2 * v).ToArray(), stages[0]), 1e-5f, "Norm in place, stage 1");
        }
    }

    [Test]
    public void CopyArgMaxIncrement()
    {
        using var b = Backend();
        const int rows = 3, vocab = 1500;
        float[] logits = Random(rows * vocab, 50, 4f);
        logits[vocab + 7] = 9f;
        logits[vocab + 900] = 9f;   // a tie: the first index wins
        using var lt = Upload(b, logits, rows, vocab);
        using var copy = b.Allocate(TensorType.F32, rows + 1, vocab);
        b.Copy(lt.All, copy.Slice(1, rows));
        AssertClose(ReadF(b, copy.Slice(1, rows)), logits, 0f, "Copy");
        using var am = b.Allocate(TensorType.I32, rows, 1);
        b.ArgMax(copy.Slice(1, rows), am.All);
        int[] got = ReadI(b, am.All);
        for (int r = 0; r < rows; r++) Assert.That(got[r], Is.EqualTo(TokenSampler.ArgMax(logits.AsSpan(r * vocab, vocab))));
        Assert.That(got[1], Is.EqualTo(7));
        b.Increment(am.Slice(1, 2), -5);
        Assert.That(ReadI(b, am.All), Is.EqualTo(new[] { got[0], got[1] - 5, got[2] - 5 }));
    }

    // ---- GPU: attention --------------------------------------------------------------------------------------

    /// <summary>One query over keys [0, keys.Count) in float64, q scaled by 1/√hd, per head.</summary>
    private static void Reference(float[] q, int qOff, List<float[]> keys, List<float[]> values, int count, int heads, float[] output, int outOff)
    {
        int d = keys[0].Length, hd = d / heads;
        double scale = 1 / Math.Sqrt(hd);
        for (int h = 0; h < heads; h++)
        {
            var s = new double[count];
            double max = double.NegativeInfinity;
            for (int j = 0; j < count; j++)
            {
                double dot = 0;
                for (int c = 0; c < hd; c++) dot += q[qOff + h * hd + c] * scale * keys[j][h * hd + c];
                s[j] = dot;
                max = Math.Max(max, dot);
            }
            double sum = 0;
            for (int j = 0; j < count; j++) sum += s[j] = Math.Exp(s[j] - max);
            for (int c = 0; c < hd; c++)
            {
                double acc = 0;
                for (int j = 0; j < count; j++) acc += s[j] * values[j][h * hd + c];
                output[outOff + h * hd + c] = (float)(acc / sum);
            }
        }
    }

    [Test]
    public void Attention_PrefillThenDecode_WithSlotsOutOfOrder()
    {
        using var b = Backend();
        const int dim = 64, heads = 4, slots = 3, layers = 2, capacity = 40, layer = 1;
        using var cache = b.CreateKvCache("ar", slots, layers, capacity, dim, keepsHistory: true);
        var keys = Enumerable.Range(0, slots).Select(_ => new List<float[]>()).ToArray();
        var values = Enumerable.Range(0, slots).Select(_ => new List<float[]>()).ToArray();

        // Prefill: slot 2 gets rows [0, 5) (2 text positions), slot 0 rows [5, 12) (3 text positions).
        AttentionSegment[] segments = [new(2, 0, 0, 5, 2, true), new(0, 5, 0, 7, 3, true)];
        const int rows = 12;
        float[] qkv = Random(rows * 3 * dim, 60);
        using var qkvT = Upload(b, qkv, rows, 3 * dim);
        using var outT = b.Allocate(TensorType.F32, rows, dim);
        b.Attention(cache, layer, heads, qkvT.All, segments, outT.All);
        var expected = new float[rows * dim];
        foreach (var seg in segments)
        {
            for (int i = 0; i < seg.Length; i++)
            {
                int row = seg.Row + i;
                keys[seg.Slot].Add(qkv.AsSpan(row * 3 * dim + dim, dim).ToArray());
                values[seg.Slot].Add(qkv.AsSpan(row * 3 * dim + 2 * dim, dim).ToArray());
            }
            for (int i = 0; i < seg.Length; i++)
            {
                // VisibleKeys: text sees all text, audio sees text and earlier audio, always a prefix here.
                Reference(qkv, (seg.Row + i) * 3 * dim, keys[seg.Slot], values[seg.Slot], seg.VisibleKeys(i), heads, expected, (seg.Row + i) * dim);
            }
        }
        AssertClose(ReadF(b, outT.All), expected, 1e-5f, "prefill");

        // Decode: slots out of order (one launch per row), then in order (one batched launch), lengths from the device.
        int[][] steps = [[2, 0], [0, 1, 2]];
        foreach (int[] stepSlots in steps)
        {
            int n = stepSlots.Length;
            float[] step = Random(n * 3 * dim, 61 + n);
            int[] lengths = stepSlots.Select(s => keys[s].Count + 1).ToArray();
            using var sq = Upload(b, step, n, 3 * dim);
            using var lt = Upload(b, lengths, n, 1);
            using var so = b.Allocate(TensorType.F32, n, dim);
            b.AttentionDecode(cache, layer, heads, sq.All, stepSlots, lt.All, so.All);
            var exp = new float[n * dim];
            for (int r = 0; r < n; r++)
            {
                int s = stepSlots[r];
                keys[s].Add(step.AsSpan(r * 3 * dim + dim, dim).ToArray());
                values[s].Add(step.AsSpan(r * 3 * dim + 2 * dim, dim).ToArray());
                Reference(step, r * 3 * dim, keys[s], values[s], keys[s].Count, heads, exp, r * dim);
            }
            AssertClose(ReadF(b, so.All), exp, 1e-5f, $"decode slots [{string.Join(", ", stepSlots)}]");
        }
    }

    [Test]
    public void Attention_WithoutHistory_ReadsThePackedRows()
    {
        using var b = Backend();
        const int dim = 32, heads = 2, rows = 9;
        using var cache = b.CreateKvCache("nar", 2, 3, 64, dim, keepsHistory: false);
        float[] qkv = Random(rows * 3 * dim, 70);
        using var qkvT = Upload(b, qkv, rows, 3 * dim);
        using var outT = b.Allocate(TensorType.F32, rows, dim);
        AttentionSegment[] segments = [new(0, 0, 0, 4, 0, false), new(1, 4, 0, 5, 0, false)];
        b.Attention(cache, 2, heads, qkvT.All, segments, outT.All);
        var expected = new float[rows * dim];
        foreach (var seg in segments)
        {
            var k = Enumerable.Range(seg.Row, seg.Length).Select(r => qkv.AsSpan(r * 3 * dim + dim, dim).ToArray()).ToList();
            var v = Enumerable.Range(seg.Row, seg.Length).Select(r => qkv.AsSpan(r * 3 * dim + 2 * dim, dim).ToArray()).ToList();
            for (int i = 0; i < seg.Length; i++) Reference(qkv, (seg.Row + i) * 3 * dim, k, v, seg.Length, heads, expected, (seg.Row + i) * dim);
        }
        AssertClose(ReadF(b, outT.All), expected, 1e-5f, "NAR attention");
        Assert.Throws<NotSupportedException>(() => b.Attention(cache, 0, heads, qkvT.Slice(0, 2), [new(0, 0, 3, 2, 0, false)], outT.Slice(0, 2)));
    }

    // ---- GPU: sampling ---------------------------------------------------------------------------------------

    [Test]
    public void Sample_PerSlotSeedsAndHistories_EqualTheCpuSampler()
    {
        using var b = Backend();
        const int vocab = 300, history = 16;
        SamplingOptions[] options =
        [
            new() { Seed = 11, TopK = 50, RepetitionPenalty = 1.3f, RepetitionWindow = 4 },
            new() { Seed = 22, Temperature = 0.8f, TopP = 0.9f },
        ];
        using var samplers = b.CreateSamplers(options, vocab, history);
        Assert.That(samplers.Seed(0), Is.EqualTo(11UL));
        Assert.That(samplers.Seed(1), Is.EqualTo(22UL));
        var cpu = options.Select(o => new TokenSampler(o, vocab)).ToArray();
        var recent = new[] { new List<int>(), new List<int>() };
        using var lt = b.Allocate(TensorType.F32, 2, vocab);
        using var tokens = b.Allocate(TensorType.I32, 2, 1);
        using var argMax = b.Allocate(TensorType.I32, 2, 1);
        for (int step = 0; step < 6; step++)
        {
            int[] slots = step % 2 == 0 ? [1, 0] : [0, 1];
            float[] logits = Random(2 * vocab, 80 + step, 3f);
            b.Write(lt.All, logits);
            b.Sample(samplers, lt.All, slots, tokens.All, argMax.All);
            int[] got = ReadI(b, tokens.All), am = ReadI(b, argMax.All);
            for (int r = 0; r < 2; r++)
            {
                int s = slots[r];
                var row = logits.AsSpan(r * vocab, vocab);
                Assert.That(am[r], Is.EqualTo(TokenSampler.ArgMax(row)), $"step {step} row {r} argmax");
                int want = cpu[s].Sample(row.ToArray(), recent[s].ToArray());
                Assert.That(got[r], Is.EqualTo(want), $"step {step} row {r} slot {s}");
                recent[s].Add(want);
            }
        }
    }

    // ---- GPU: step graph ------------------------------------------------------------------------------------

    [Test]
    public void StepGraph_RecordsOncePerVersion_AndReplaysAdvanceDeviceCounters()
    {
        using var b = Backend();
        const int dim = 16;
        const float alpha = 0.5f;
        float[] x = Random(2 * dim, 90);
        using var pos = b.CreatePositions("pe", dim, alpha);
        using var xt = Upload(b, x, 2, dim);
        using var counters = Upload(b, new[] { 3, 10 }, 2, 1);
        using var graph = b.CreateStepGraph();
        int bodyRuns = 0;
        void Body()
        {
            bodyRuns++;
            b.AddPositions(pos, xt.All, counters.All);
            b.Increment(counters.All, 1);
        }
        for (int i = 0; i < 3; i++) graph.Run(0, Body);
        Assert.That(bodyRuns, Is.EqualTo(1), "recorded once, replayed after");
        Assert.That(ReadI(b, counters.All), Is.EqualTo(new[] { 6, 13 }));
        float[] w = SinePositions.Frequencies(dim);
        var expected = (float[])x.Clone();
        for (int r = 0; r < 2; r++)
            for (int p = 0; p < 3; p++)
                for (int i = 0; i < dim; i++) expected[r * dim + i] += alpha * SinePe((r == 0 ? 3 : 10) + p, i, w);
        AssertClose(ReadF(b, xt.All), expected, 1e-5f, "positions read from the device on every replay");

        graph.Run(1, () => b.Increment(counters.All, 10));   // a new version records again
        Assert.That(ReadI(b, counters.All), Is.EqualTo(new[] { 16, 23 }));
    }

    [Test]
    public void StepGraph_RefusesHostWork_AndTheBackendStaysUsable()
    {
        using var b = Backend();
        using var t = b.Allocate(TensorType.I32, 1, 1);
        b.Write(t.All, [5]);
        using var conv = b.CreateConv("c", Random(4 * 4 * 3, 1), Random(4, 2), Random(4, 3), Random(4, 4), 4, 3);
        using var x = b.Allocate(TensorType.F32, 2, 4);
        using var y = b.Allocate(TensorType.F32, 2, 4);
        using var graph = b.CreateStepGraph();
        Assert.Throws<InvalidOperationException>(() => graph.Run(0, () => b.Read(t.All, new int[1])));
        Assert.Throws<InvalidOperationException>(() => graph.Run(0, () => b.Write(t.All, [1])));
        Assert.Throws<InvalidOperationException>(() => graph.Run(0, () => b.Allocate(TensorType.F32, 1, 1).Dispose()));
        Assert.Throws<InvalidOperationException>(() => graph.Run(0, () => b.Conv(conv, x.All, y.All)));
        graph.Run(0, () => b.Increment(t.All, 2));
        Assert.That(ReadI(b, t.All), Is.EqualTo(new[] { 7 }));
    }

    // ---- GPU: conv host fallback ----------------------------------------------------------------------------

    [Test]
    public void Conv_HostFallback_EqualsTheCpuPrenet()
    {
        using var b = Backend();
        const int dim = 12, kernel = 5, rows = 10;
        float[] w = Random(dim * dim * kernel, 100), bias = Random(dim, 101), scale = Random(dim, 102), shift = Random(dim, 103);
        float[] x = Random((rows + 2) * dim, 104);
        using var conv = b.CreateConv("prenet.0", w, bias, scale, shift, dim, kernel);
        using var xt = Upload(b, x, rows + 2, dim);
        using var yt = b.Allocate(TensorType.F32, rows + 2, dim);
        b.Conv(conv, xt.Slice(1, rows), yt.Slice(2, rows));   // one sequence: rows 1..10 of x
        var expected = new float[rows * dim];
        new ConvBlock(w, bias, scale, shift, dim, kernel).Apply(x.AsSpan(dim, rows * dim), rows, expected);
        AssertClose(ReadF(b, yt.Slice(2, rows)), expected, 0f, "conv");
    }
}
