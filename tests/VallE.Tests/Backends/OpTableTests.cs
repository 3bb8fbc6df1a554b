using VallE.Runtime.Backends;
using VallE.Runtime.Cpu;
using VallE.Runtime.Models;
using VallE.Runtime.Sampling;

namespace VallE.Tests.Backends;

/// <summary>
/// One case of the op table: an operation on a shape, run on any backend and checked against
/// <see cref="Float64Reference"/> (or exactly, where the interface fixes the float32 result).
/// </summary>
public sealed record OpCase(string Op, string Shape, string DType, string Variant, OpRequirement Requirement, Action<IComputeBackend> Run)
{
    public string NameOn(string backend) =>
        string.Join("/", new[] { backend, Op, Shape, DType, Variant }.Where(s => s.Length > 0));
}

/// <summary>
/// The op table, in the style of llama.cpp's test-backend-ops: every operation of <see cref="IComputeBackend"/> on
/// every backend (<see cref="TestBackends.Names"/>; CUDA rows skip without a GPU or before the CUDA backend is built)
/// over shapes a VALL-E model meets and their edges (1 row, odd widths, 300+ rows, batches of 1/3/8 slots, the AR's
/// 1025-wide predict layer, head sizes 16 and 64), each compared with a float64 reference computed here from the
/// same inputs by normalised error (NMSE = Σ(y − ref)² / Σ ref²):
/// <list type="bullet">
/// <item>float32 arithmetic: NMSE ≤ <see cref="F32"/> (float32 rounding of sums of up to ~1000 terms is ~1e-13);</item>
/// <item>bf16 weights against the float32 weights they came from: ≤ <see cref="Bf16"/> (round-to-nearest bf16 has a
///   relative error of at most 2^-9, an NMSE of ~1e-6 on uniform weights);</item>
/// <item>int8 weights (per-row absmax/127): ≤ <see cref="Int8"/> (expected ~1.6e-5 on uniform weights);</item>
/// <item>exact: GatherSum (float32 sum in table order), Add, Copy, the residual of AddNorm, ArgMax, Sample, Increment.</item>
/// </list>
/// Inputs and outputs are views inside NaN-padded tensors, so an op reading outside its view fails the NMSE and one
/// writing outside it fails the padding check.
/// </summary>
[TestFixture]
public class OpTableTests
{
    public const double F32 = 1e-10;
    public const double Bf16 = 1e-5;
    public const double Int8 = 1e-4;

    public static double Threshold(WeightsDType dtype) => dtype switch
    {
        WeightsDType.BF16 => Bf16,
        WeightsDType.Int8 => Int8,
        _ => F32,
    };

    public static IEnumerable<TestCaseData> Rows()
    {
        foreach (string backend in TestBackends.Names)
            foreach (OpCase c in Cases())
                yield return new TestCaseData(backend, c).SetName(c.NameOn(backend));
    }

    [TestCaseSource(nameof(Rows))]
    public void Op(string backend, OpCase c)
    {
        using IComputeBackend b = TestBackends.Create(backend);
        Assert.That(b.Name, Is.EqualTo(backend));
        TestBackends.Require(b, c.Requirement);
        c.Run(b);
    }

    public static IEnumerable<OpCase> Cases() =>
        GatherSumCases().Concat(PositionCases()).Concat(LinearCases()).Concat(ElementwiseCases()).Concat(NormCases())
            .Concat(ConvCases()).Concat(AttentionCases()).Concat(DecodeCases()).Concat(ArgMaxCases()).Concat(SampleCases())
            .Concat(IncrementCases()).Concat(RmsNormCases()).Concat(RopeCases()).Concat(GatedGeluCases());

    // ---- GatherSum -------------------------------------------------------------------------------------------

    private static IEnumerable<OpCase> GatherSumCases()
    {
        foreach (var (tables, vocab, dim, rows, idCols) in new[]
                 {
                     (1, 7, 33, 1, 1), (1, 512, 64, 7, 3), (2, 1026, 64, 33, 2), (2, 300, 33, 8, 8),
                     (8, 1024, 64, 3, 8), (8, 1025, 1024, 7, 9), (8, 1024, 16, 310, 8),
                 })
            yield return new OpCase("GatherSum", $"tables={tables} vocab={vocab} dim={dim} rows={rows} idcols={idCols}", "f32", "",
                new(OpKind.GatherSum), b => GatherSum(b, tables, vocab, dim, rows, idCols));
    }

    private static void GatherSum(IComputeBackend b, int tableCount, int vocab, int dim, int rows, int idCols)
    {
        var tables = new float[tableCount][];
        var handles = new DeviceTable[tableCount];
        for (int j = 0; j < tableCount; j++)
        {
            tables[j] = TestData.Uniform(vocab * dim, 100 + j, scale: 1f + j);
            handles[j] = b.CreateTable($"table{j}", tables[j], vocab, dim);
        }
        var ids = TestData.Ints(rows * idCols, 7, vocab);
        // Columns past the table count are not ids of any table: out-of-range values there must be ignored.
        for (int r = 0; r < rows; r++)
            for (int j = tableCount; j < idCols; j++) ids[r * idCols + j] = j % 2 == 0 ? -5 : vocab + 1000;
        try
        {
            using var idBuf = Buf.I32(b, rows, idCols, ids, before: 1, after: 2);
            using var dst = Buf.F32(b, rows, dim, before: 2, after: 1);
            b.GatherSum(handles, idBuf.View, dst.View);
            var y = dst.Read();
            dst.AssertPaddingIntact("GatherSum");

            var ordered = new float[rows * dim]; // the float32 sum in table order, as the interface states
            for (int r = 0; r < rows; r++)
                for (int i = 0; i < dim; i++)
                {
                    float acc = tables[0][ids[r * idCols] * dim + i];
                    for (int j = 1; j < tableCount; j++) acc += tables[j][ids[r * idCols + j] * dim + i];
                    ordered[r * dim + i] = acc;
                }
            TestData.AssertNmse(y, Float64Reference.GatherSum(tables, dim, ids, idCols, rows), F32, "GatherSum");
            TestData.AssertExact(y, ordered, "GatherSum (float32, table order)");
        }
        finally
        {
            foreach (var h in handles) h.Dispose();
        }
    }

    // ---- AddPositions ----------------------------------------------------------------------------------------

    private static IEnumerable<OpCase> PositionCases()
    {
        foreach (var (dim, rows, first, alpha) in new[]
                 {
                     (64, 1, 0, 1f), (33, 7, 5, 0.37f), (1024, 33, 0, 1f), (1024, 3, 1000, 0.37f), (64, 310, 17, 2.5f),
                 })
            yield return new OpCase("AddPositions", $"dim={dim} rows={rows} first={first}", "f32", $"alpha={alpha:0.###}",
                new(OpKind.AddPositions), b => AddPositions(b, dim, rows, alpha, first, null));
        foreach (var (dim, rows, alpha) in new[] { (64, 1, 1f), (33, 3, 0.37f), (1024, 8, 1f), (64, 8, 2.5f) })
            yield return new OpCase("AddPositions", $"dim={dim} rows={rows} per-row positions", "f32", $"alpha={alpha:0.###}",
                new(OpKind.AddPositions), b => AddPositions(b, dim, rows, alpha, 0, TestData.Ints(rows, rows * 31 + dim, 1500)));
    }

    private static void AddPositions(IComputeBackend b, int dim, int rows, float alpha, int first, int[]? rowPositions)
    {
        int[] positions = rowPositions ?? Enumerable.Range(first, rows).ToArray();
        if (rowPositions is { Length: > 1 }) positions[1] = 0; // position 0: sin 0, cos 1
        var x = TestData.Uniform(rows * dim, 3);
        using var pe = b.CreatePositions("positions", dim, alpha);
        pe.EnsureCapacity(positions.Max() + 1);
        using var xb = Buf.F32(b, rows, dim, x, before: 1, after: 1);
        if (rowPositions is null)
        {
            b.AddPositions(pe, xb.View, first);
        }
        else
        {
            using var pb = Buf.I32(b, rows, 1, positions, before: 2);
            b.AddPositions(pe, xb.View, pb.View);
            TestData.AssertExact(pb.ReadInts(), positions, "AddPositions: positions unchanged");
        }
        var y = xb.Read();
        xb.AssertPaddingIntact("AddPositions");

        float[] w = SinePositions.Frequencies(dim);
        var expected = new double[rows * dim];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < dim; i++)
                expected[r * dim + i] = x[r * dim + i] + (double)alpha * Float64Reference.Pe(positions[r], i, w);
        TestData.AssertNmse(y, expected, F32, "AddPositions");
    }

    // ---- Linear ----------------------------------------------------------------------------------------------

    private static IEnumerable<OpCase> LinearCases()
    {
        var shapes = new (int Rows, int In, int Out)[]
        {
            (1, 64, 1025), (7, 33, 1025), (3, 1024, 33), (8, 1024, 1025), (33, 256, 1024), (320, 256, 260),
        };
        foreach (WeightsDType dtype in Enum.GetValues<WeightsDType>())
            foreach (var (s, index) in shapes.Select((s, i) => (s, i)))
            {
                // Every shape with bias+none and no-bias+relu; two shapes with all four combinations.
                var variants = index is 1 or 5
                    ? new[] { (true, Activation.None), (true, Activation.Relu), (false, Activation.None), (false, Activation.Relu) }
                    : new[] { (true, Activation.None), (false, Activation.Relu) };
                foreach (var (bias, act) in variants)
                {
                    string variant = (bias ? "bias" : "no bias") + (act == Activation.Relu ? " relu" : "");
                    yield return new OpCase("Linear", $"rows={s.Rows} in={s.In} out={s.Out}", dtype.ToString(), variant,
                        new(OpKind.Linear, dtype), b => Linear(b, s.Rows, s.In, s.Out, dtype, bias, act));
                }
            }
    }

    internal static void Linear(IComputeBackend b, int rows, int inF, int outF, WeightsDType dtype, bool hasBias, Activation act)
    {
        var w = TestData.Uniform(outF * inF, inF * 7 + outF);
        var bias = hasBias ? TestData.Uniform(outF, 11, scale: 0.5f) : null;
        var x = TestData.Uniform(rows * inF, rows + inF);
        using var linear = b.CreateLinear("linear", w, bias ?? [], outF, inF, dtype);
        Assert.That((linear.OutFeatures, linear.InFeatures, linear.DType, linear.HasBias), Is.EqualTo((outF, inF, dtype, hasBias)));
        using var xb = Buf.F32(b, rows, inF, x, before: 1, after: 2);
        using var yb = Buf.F32(b, rows, outF, before: 3, after: 1);
        b.Linear(linear, xb.View, yb.View, act);
        var y = yb.Read();
        yb.AssertPaddingIntact("Linear");
        TestData.AssertNmse(y, Float64Reference.Linear(x, rows, inF, w, outF, bias, act), Threshold(dtype), "Linear");
        if (act == Activation.Relu) Assert.That(y, Is.All.GreaterThanOrEqualTo(0f), "Linear: relu output");
    }

    // ---- Add, Copy -------------------------------------------------------------------------------------------

    private static IEnumerable<OpCase> ElementwiseCases()
    {
        foreach (var (rows, cols) in new[] { (1, 33), (7, 1024), (310, 64), (3, 7) })
        {
            yield return new OpCase("Add", $"rows={rows} cols={cols}", "f32", "", new(OpKind.Add), b => Add(b, rows, cols));
            yield return new OpCase("Copy", $"rows={rows} cols={cols}", "f32", "", new(OpKind.Copy), b => Copy(b, rows, cols));
        }
        yield return new OpCase("Copy", "rows=5 cols=16", "i32", "", new(OpKind.Copy), b => CopyInts(b, 5, 16));
    }

    private static void Add(IComputeBackend b, int rows, int cols)
    {
        var x = TestData.Uniform(rows * cols, 1);
        var d = TestData.Uniform(rows * cols, 2, scale: 3f);
        using var xb = Buf.F32(b, rows, cols, x, before: 2, after: 1);
        using var db = Buf.F32(b, rows, cols, d, before: 1);
        b.Add(xb.View, db.View);
        var y = xb.Read();
        xb.AssertPaddingIntact("Add");
        TestData.AssertExact(y, x.Zip(d, (p, q) => p + q).ToArray(), "Add");
        TestData.AssertExact(db.Read(), d, "Add: delta unchanged");
    }

    private static void Copy(IComputeBackend b, int rows, int cols)
    {
        var x = TestData.Uniform(rows * cols, 5);
        using var src = Buf.F32(b, rows, cols, x, before: 3, after: 1);
        using var dst = Buf.F32(b, rows, cols, before: 1, after: 2);
        b.Copy(src.View, dst.View);
        TestData.AssertExact(dst.Read(), x, "Copy");
        dst.AssertPaddingIntact("Copy");
    }

    private static void CopyInts(IComputeBackend b, int rows, int cols)
    {
        var x = TestData.Ints(rows * cols, 5, 100000);
        using var src = Buf.I32(b, rows, cols, x, before: 1);
        using var dst = Buf.I32(b, rows, cols, after: 2);
        b.Copy(src.View, dst.View);
        TestData.AssertExact(dst.ReadInts(), x, "Copy i32");
        dst.AssertPaddingIntact("Copy i32");
    }

    // ---- Norm, AddNorm ---------------------------------------------------------------------------------------

    private static IEnumerable<OpCase> NormCases()
    {
        foreach (var (rows, dim) in new[] { (1, 1024), (7, 33), (310, 64), (8, 1024) })
            foreach (bool add in new[] { false, true })
                foreach (bool inPlace in new[] { false, true })
                    foreach (int stage in new[] { 0, 1, 2 }) // 0: LayerNorm; 1, 2: AdaLN stages
                    {
                        if (dim == 33 && stage == 1 || rows == 310 && stage == 2) continue; // fewer rows, same coverage
                        string kind = stage == 0 ? "layernorm" : $"adaln stage={stage}";
                        yield return new OpCase(add ? "AddNorm" : "Norm", $"rows={rows} dim={dim}", "f32",
                            kind + (inPlace ? " y=x" : " y!=x"), new(OpKind.Norm), b => Norm(b, rows, dim, stage, add, inPlace));
                    }
    }

    private static void Norm(IComputeBackend b, int rows, int dim, int stage, bool add, bool inPlace)
    {
        const float eps = 1e-5f;
        var gamma = TestData.Uniform(dim, 1, scale: 0.3f, offset: 1f);
        var beta = TestData.Uniform(dim, 2, scale: 0.2f);
        float[][]? stages = stage == 0 ? null :
        [
            [.. TestData.Uniform(dim, 3, 0.3f, 1f), .. TestData.Uniform(dim, 4, 0.5f)],
            [.. TestData.Uniform(dim, 5, 0.3f, 0.8f), .. TestData.Uniform(dim, 6, 0.5f, 0.1f)],
        ];
        // A non-zero mean: catches a one-pass variance that cancels badly.
        var x = TestData.Uniform(rows * dim, 7, scale: 2f, offset: 3f);
        var delta = TestData.Uniform(rows * dim, 8);
        using var norm = b.CreateNorm("norm", gamma, beta, eps, stages);
        Assert.That(norm.Stages, Is.EqualTo(stage == 0 ? 0 : 2), "DeviceNorm.Stages");
        using var xb = Buf.F32(b, rows, dim, x, before: 1, after: 1);
        using var db = Buf.F32(b, rows, dim, delta, after: 2);
        using var yb = Buf.F32(b, rows, dim, before: 2);
        TensorRows yView = inPlace ? xb.View : yb.View;
        if (add) b.AddNorm(norm, stage, xb.View, db.View, yView);
        else b.Norm(norm, stage, xb.View, yView);

        float[] residual = add ? x.Zip(delta, (p, q) => p + q).ToArray() : x;
        float[]? scaleShift = stage == 0 ? null : stages![stage - 1]; // stage s uses pair s - 1 (DeviceNorm.Stages)
        var expected = Float64Reference.Norm(TestData.Widen(residual), rows, dim, gamma, beta, eps, scaleShift);
        string what = add ? "AddNorm" : "Norm";
        TestData.AssertNmse(inPlace ? xb.Read() : yb.Read(), expected, F32, what);
        if (!inPlace) TestData.AssertExact(xb.Read(), residual, what + ": x afterwards (x + delta for AddNorm, unchanged for Norm)");
        xb.AssertPaddingIntact(what);
        yb.AssertPaddingIntact(what);
    }

    // ---- RmsNorm, Rope, GatedGelu (LLaMA blocks: e-c-k-e-r/vall-e) -------------------------------------------

    private static IEnumerable<OpCase> RmsNormCases()
    {
        foreach (var (rows, dim) in new[] { (1, 1024), (7, 33), (310, 64), (8, 96) })
            foreach (bool inPlace in new[] { false, true })
                yield return new OpCase("RmsNorm", $"rows={rows} dim={dim}", "f32", inPlace ? "y=x" : "y!=x", new(OpKind.RmsNorm),
                    b => RmsNorm(b, rows, dim, inPlace));
    }

    private static void RmsNorm(IComputeBackend b, int rows, int dim, bool inPlace)
    {
        const float eps = 1e-6f;
        var weight = TestData.Uniform(dim, 11, scale: 0.3f, offset: 1f);
        var x = TestData.Uniform(rows * dim, 12, scale: 2f, offset: 0.5f);
        using var norm = b.CreateRmsNorm("rms", weight, eps);
        using var xb = Buf.F32(b, rows, dim, x, before: 1, after: 1);
        using var yb = Buf.F32(b, rows, dim, before: 2);
        b.RmsNorm(norm, xb.View, inPlace ? xb.View : yb.View);
        TestData.AssertNmse(inPlace ? xb.Read() : yb.Read(), Float64Reference.RmsNorm(x, rows, weight, eps), F32, "RmsNorm");
        if (!inPlace) TestData.AssertExact(xb.Read(), x, "RmsNorm: x unchanged");
        xb.AssertPaddingIntact("RmsNorm");
        yb.AssertPaddingIntact("RmsNorm");
    }

    private static IEnumerable<OpCase> RopeCases()
    {
        foreach (var (rows, dim, heads, maxPos) in new[] { (1, 64, 4, 1), (7, 64, 4, 40), (33, 96, 6, 300), (5, 1024, 16, 3000) })
            yield return new OpCase("Rope", $"rows={rows} dim={dim} heads={heads} positions<{maxPos}", "f32", "", new(OpKind.Rope),
                b => Rope(b, rows, dim, heads, maxPos));
    }

    private static void Rope(IComputeBackend b, int rows, int dim, int heads, int maxPos)
    {
        var qkv = TestData.Uniform(rows * 3 * dim, 13, scale: 1.5f);
        var positions = TestData.Ints(rows, 14, maxPos);
        using var xb = Buf.F32(b, rows, 3 * dim, qkv, before: 1, after: 2);
        using var pb = Buf.I32(b, rows, 1, positions, before: 2, after: 1);
        b.Rope(xb.View, pb.View, heads, 10000f);
        var y = xb.Read();
        // The angle is a float32 product (as torch); at position 3000 that alone is ~1e-4 rad of rounding, an NMSE of ~1e-8.
        TestData.AssertNmse(y, Float64Reference.Rope(qkv, rows, dim, heads, positions, 10000), maxPos > 1000 ? 1e-7 : F32, "Rope");
        for (int r = 0; r < rows; r++)
            TestData.AssertExact(y.AsSpan(r * 3 * dim + 2 * dim, dim), qkv.AsSpan(r * 3 * dim + 2 * dim, dim), "Rope: v unchanged");
        xb.AssertPaddingIntact("Rope");
    }

    private static IEnumerable<OpCase> GatedGeluCases()
    {
        foreach (var (rows, f) in new[] { (1, 4096), (7, 33), (310, 256), (8, 384) })
            yield return new OpCase("GatedGelu", $"rows={rows} f={f}", "f32", "", new(OpKind.GatedGelu), b => GatedGelu(b, rows, f));
    }

    private static void GatedGelu(IComputeBackend b, int rows, int f)
    {
        var gateUp = TestData.Uniform(rows * 2 * f, 15, scale: 5f); // gate in [-5, 5]: both tails of the GELU
        using var xb = Buf.F32(b, rows, 2 * f, gateUp, before: 1, after: 1);
        using var yb = Buf.F32(b, rows, f, before: 2, after: 1);
        b.GatedGelu(xb.View, yb.View);
        TestData.AssertNmse(yb.Read(), Float64Reference.GatedGelu(gateUp, rows, f), F32, "GatedGelu");
        yb.AssertPaddingIntact("GatedGelu");
    }

    // ---- Conv ------------------------------------------------------------------------------------------------

    private static IEnumerable<OpCase> ConvCases()
    {
        foreach (var (rows, dim) in new[] { (1, 16), (2, 33), (7, 64), (40, 33), (5, 16) })
            yield return new OpCase("Conv", $"rows={rows} dim={dim} kernel=5", "f32", "bn relu", new(OpKind.Conv), b => Conv(b, rows, dim, 5));
        yield return new OpCase("Conv", "rows=9 dim=16 kernel=3", "f32", "bn relu", new(OpKind.Conv), b => Conv(b, 9, 16, 3));
    }

    private static void Conv(IComputeBackend b, int rows, int dim, int kernel)
    {
        var weight = TestData.Uniform(dim * dim * kernel, dim + kernel, scale: 1f / MathF.Sqrt(dim * kernel));
        var bias = TestData.Uniform(dim, 2, scale: 0.2f);
        var bnScale = TestData.Uniform(dim, 3, scale: 0.5f, offset: 1f);
        var bnShift = TestData.Uniform(dim, 4, scale: 0.3f);
        var x = TestData.Uniform(rows * dim, rows);
        using var conv = b.CreateConv("conv", weight, bias, bnScale, bnShift, dim, kernel);
        using var xb = Buf.F32(b, rows, dim, x, before: 2, after: 2); // NaN neighbours: the padding must be zeros, not reads
        using var yb = Buf.F32(b, rows, dim, before: 1, after: 1);
        b.Conv(conv, xb.View, yb.View);
        var y = yb.Read();
        yb.AssertPaddingIntact("Conv");
        TestData.AssertNmse(y, Float64Reference.Conv(x, rows, dim, weight, bias, bnScale, bnShift, kernel), F32, "Conv");
        TestData.AssertExact(xb.Read(), x, "Conv: x unchanged");
    }

    // ---- Attention, AttentionDecode --------------------------------------------------------------------------

    /// <summary>A pass (segments: Attention) or a decode step (slots + lengths: AttentionDecode) on one layer.</summary>
    internal sealed record AttentionStep(int Layer, AttentionSegment[]? Segments = null, int[]? Slots = null, int[]? Lengths = null)
    {
        public static AttentionStep Pass(int layer, params AttentionSegment[] segments) => new(layer, Segments: segments);
        public static AttentionStep Decode(int layer, int[] slots, int[] lengths) => new(layer, Slots: slots, Lengths: lengths);
    }

    /// <summary>Segments laid out one after another in the pass, rows from 0.</summary>
    internal static AttentionSegment[] Segs(bool causal, params (int Slot, int Start, int Length, int Text)[] parts)
    {
        var segments = new AttentionSegment[parts.Length];
        int row = 0;
        for (int i = 0; i < parts.Length; i++)
        {
            segments[i] = new AttentionSegment(parts[i].Slot, row, parts[i].Start, parts[i].Length, parts[i].Text, causal);
            row += parts[i].Length;
        }
        return segments;
    }

    private static IEnumerable<OpCase> AttentionCases()
    {
        OpCase Case(string shape, string variant, int dim, int heads, int slots, int layers, int capacity, bool history, params AttentionStep[] steps) =>
            new("Attention", shape, "f32", variant, new(OpKind.Attention, HeadDim: dim / heads),
                b => RunAttention(b, dim, heads, slots, layers, capacity, history, steps));

        yield return Case("rows=1 dim=64 heads=4", "causal text=1", 64, 4, 1, 1, 4, true,
            AttentionStep.Pass(0, Segs(true, (0, 0, 1, 1))));
        yield return Case("rows=20 dim=64 heads=4", "causal text=8", 64, 4, 1, 1, 32, true,
            AttentionStep.Pass(0, Segs(true, (0, 0, 20, 8))));
        yield return Case("rows=20 dim=64 heads=4", "causal text=20 all text", 64, 4, 1, 1, 20, true,
            AttentionStep.Pass(0, Segs(true, (0, 0, 20, 20))));
        yield return Case("segments=7+33+1 dim=64 heads=4", "causal slots 2,0,1", 64, 4, 3, 2, 40, true,
            AttentionStep.Pass(1, Segs(true, (2, 0, 7, 3), (0, 0, 33, 10), (1, 0, 1, 1))));
        yield return Case("segments=7+33+1 dim=64 heads=4", "noncausal no-history cache", 64, 4, 3, 2, 40, false,
            AttentionStep.Pass(0, Segs(false, (0, 0, 7, 0), (1, 0, 33, 0), (2, 0, 1, 0))),
            AttentionStep.Pass(1, Segs(false, (1, 0, 5, 0), (0, 0, 12, 0))));
        yield return Case("rows=330 dim=64 heads=4", "causal text=40", 64, 4, 1, 1, 330, true,
            AttentionStep.Pass(0, Segs(true, (0, 0, 330, 40))));
        yield return Case("rows=310 dim=128 heads=2", "noncausal", 128, 2, 1, 1, 310, false,
            AttentionStep.Pass(0, Segs(false, (0, 0, 310, 0))));
        yield return Case("rows=40 dim=1024 heads=16", "causal text=12", 1024, 16, 1, 1, 48, true,
            AttentionStep.Pass(0, Segs(true, (0, 0, 40, 12))));
        yield return Case("segments=3x8 dim=1024 heads=16", "noncausal batch=3", 1024, 16, 3, 1, 8, false,
            AttentionStep.Pass(0, Segs(false, (0, 0, 8, 0), (1, 0, 5, 0), (2, 0, 8, 0))));
        // A pass that continues a sequence: its rows see the cached keys of the first pass (cache with history).
        yield return Case("rows=20 then 7 dim=64 heads=4", "causal history start=20", 64, 4, 2, 1, 32, true,
            AttentionStep.Pass(0, Segs(true, (1, 0, 20, 8))),
            AttentionStep.Pass(0, Segs(true, (1, 20, 7, 8))));
        yield return Case("rows=9+4 then 3+2 dim=128 heads=2", "causal history 2 slots", 128, 2, 2, 2, 16, true,
            AttentionStep.Pass(1, Segs(true, (0, 0, 9, 5), (1, 0, 4, 4))),
            AttentionStep.Pass(1, Segs(true, (1, 4, 3, 4), (0, 9, 2, 5))));
    }

    private static IEnumerable<OpCase> DecodeCases()
    {
        OpCase Case(string shape, string variant, int dim, int heads, int slots, int layers, int capacity, params AttentionStep[] steps) =>
            new("AttentionDecode", shape, "f32", variant, new(OpKind.AttentionDecode, HeadDim: dim / heads),
                b => RunAttention(b, dim, heads, slots, layers, capacity, true, steps));

        yield return Case("batch=1 dim=64 heads=4", "identity slots", 64, 4, 1, 1, 16,
            AttentionStep.Pass(0, Segs(true, (0, 0, 9, 4))),
            AttentionStep.Decode(0, [0], [10]),
            AttentionStep.Decode(0, [0], [11]),
            AttentionStep.Decode(0, [0], [12]));
        yield return Case("batch=3 dim=64 heads=4", "identity slots lengths 6,13,2", 64, 4, 3, 2, 20,
            AttentionStep.Pass(1, Segs(true, (0, 0, 5, 2), (1, 0, 12, 5), (2, 0, 1, 1))),
            AttentionStep.Decode(1, [0, 1, 2], [6, 13, 2]),
            AttentionStep.Decode(1, [0, 1, 2], [7, 14, 3]));
        yield return Case("batch=3 of 5 slots dim=64 heads=4", "permuted slots 3,4,1 then 1,3", 64, 4, 5, 1, 24,
            AttentionStep.Pass(0, Segs(true, (4, 0, 7, 3), (1, 0, 2, 2), (3, 0, 15, 6))),
            AttentionStep.Decode(0, [3, 4, 1], [16, 8, 3]),
            AttentionStep.Decode(0, [1, 3], [4, 17]),
            AttentionStep.Decode(0, [4, 3, 1], [9, 18, 5]));
        yield return Case("batch=8 dim=128 heads=2", "permuted slots", 128, 2, 8, 1, 40,
            AttentionStep.Pass(0, Segs(true, (5, 0, 3, 3), (2, 0, 30, 9), (7, 0, 1, 1), (0, 0, 11, 4),
                (1, 0, 6, 2), (3, 0, 17, 17), (4, 0, 2, 1), (6, 0, 25, 8))),
            AttentionStep.Decode(0, [7, 6, 5, 4, 3, 2, 1, 0], [2, 26, 4, 3, 18, 31, 7, 12]),
            AttentionStep.Decode(0, [0, 1, 2, 3, 4, 5, 6, 7], [13, 8, 32, 19, 4, 5, 27, 3]));
        yield return Case("batch=8 dim=1024 heads=16", "identity slots", 1024, 16, 8, 1, 12,
            AttentionStep.Pass(0, Segs(true, (0, 0, 3, 2), (1, 0, 5, 2), (2, 0, 1, 1), (3, 0, 7, 3),
                (4, 0, 2, 2), (5, 0, 9, 4), (6, 0, 4, 4), (7, 0, 6, 1))),
            AttentionStep.Decode(0, [0, 1, 2, 3, 4, 5, 6, 7], [4, 6, 2, 8, 3, 10, 5, 7]));
        // Layers are separate: layer 1's pass and decode must not disturb layer 0's keys.
        yield return Case("batch=2 layers=2 dim=64 heads=4", "layer 0 after layer 1", 64, 4, 2, 2, 16,
            AttentionStep.Pass(0, Segs(true, (0, 0, 6, 3), (1, 0, 4, 2))),
            AttentionStep.Pass(1, Segs(true, (0, 0, 6, 3), (1, 0, 4, 2))),
            AttentionStep.Decode(1, [1, 0], [5, 7]),
            AttentionStep.Decode(0, [1, 0], [5, 7]),
            AttentionStep.Decode(0, [0], [8]));
        // A long history: 300+ cached keys.
        yield return Case("batch=2 history=330 dim=64 heads=4", "identity slots", 64, 4, 2, 1, 340,
            AttentionStep.Pass(0, Segs(true, (0, 0, 330, 40), (1, 0, 7, 7))),
            AttentionStep.Decode(0, [0, 1], [331, 8]),
            AttentionStep.Decode(0, [0, 1], [332, 9]));
    }

    /// <summary>
    /// Runs the steps on one cache, with fresh random q|k|v rows for each, checking every output against
    /// float64 attention over a <see cref="ReferenceKvCache"/> written as the interface says the cache is written:
    /// a later step reads what an earlier one stored, which is how the cache contents are checked.
    /// </summary>
    internal static void RunAttention(IComputeBackend b, int dim, int heads, int slots, int layers, int capacity, bool history,
        AttentionStep[] steps)
    {
        using var cache = b.CreateKvCache("kv", slots, layers, capacity, dim, history);
        Assert.That((cache.Slots, cache.Layers, cache.Capacity, cache.Dim, cache.KeepsHistory), Is.EqualTo((slots, layers, capacity, dim, history)));
        var reference = new ReferenceKvCache(slots, layers, capacity, dim);
        for (int s = 0; s < steps.Length; s++)
        {
            var step = steps[s];
            int rows = step.Segments?.Sum(g => g.Length) ?? step.Slots!.Length;
            var qkv = TestData.Uniform(rows * 3 * dim, 1000 + s * 17 + dim, scale: 2f);
            using var qkvBuf = Buf.F32(b, rows, 3 * dim, qkv, before: 2, after: 1);
            using var outBuf = Buf.F32(b, rows, dim, before: 1, after: 3);
            var expected = new double[rows * dim];
            string what = $"step {s} ({(step.Segments is null ? "decode" : "pass")}, layer {step.Layer})";
            if (step.Segments is { } segments)
            {
                b.Attention(cache, step.Layer, heads, qkvBuf.View, segments, outBuf.View);
                foreach (var g in segments)
                    for (int t = 0; t < g.Length; t++)
                        reference.Store(g.Slot, step.Layer, g.Start + t, qkv.AsSpan((g.Row + t) * 3 * dim, 3 * dim));
                foreach (var g in segments)
                    for (int t = 0; t < g.Length; t++)
                        Float64Reference.Attend(qkv.AsSpan((g.Row + t) * 3 * dim, dim), reference, g.Slot, step.Layer,
                            g.VisibleKeys(g.Start + t), heads, expected.AsSpan((g.Row + t) * dim, dim));
            }
            else
            {
                int[] lengths = step.Lengths!;
                using var lengthBuf = Buf.I32(b, rows, 1, lengths, before: 1, after: 1);
                b.AttentionDecode(cache, step.Layer, heads, qkvBuf.View, step.Slots, lengthBuf.View, outBuf.View);
                for (int r = 0; r < rows; r++)
                    reference.Store(step.Slots![r], step.Layer, lengths[r] - 1, qkv.AsSpan(r * 3 * dim, 3 * dim));
                for (int r = 0; r < rows; r++)
                    Float64Reference.Attend(qkv.AsSpan(r * 3 * dim, dim), reference, step.Slots![r], step.Layer, lengths[r], heads,
                        expected.AsSpan(r * dim, dim));
                TestData.AssertExact(lengthBuf.ReadInts(), lengths, what + ": lengths unchanged");
            }
            TestData.AssertNmse(outBuf.Read(), expected, F32, what);
            outBuf.AssertPaddingIntact(what);
            TestData.AssertExact(qkvBuf.Read(), qkv, what + ": qkv unchanged");
        }
    }

    // ---- ArgMax ----------------------------------------------------------------------------------------------

    private static IEnumerable<OpCase> ArgMaxCases()
    {
        foreach (var (rows, vocab) in new[] { (1, 1025), (3, 7), (8, 1025), (3, 33), (8, 1024) })
            yield return new OpCase("ArgMax", $"rows={rows} vocab={vocab}", "f32", "ties -inf", new(OpKind.ArgMax, Vocab: vocab),
                b => ArgMax(b, rows, vocab));
    }

    private static void ArgMax(IComputeBackend b, int rows, int vocab)
    {
        var logits = TestData.Uniform(rows * vocab, rows * vocab, scale: 5f);
        var rng = new Random(vocab);
        for (int r = 0; r < rows; r++)
        {
            var row = logits.AsSpan(r * vocab, vocab);
            switch (r % 4)
            {
                case 0: // a tie for the maximum: the first index wins
                    int i = rng.Next(vocab), j = rng.Next(vocab);
                    row[i] = row[j] = 9f;
                    break;
                case 1: // -inf entries, the maximum at the last index
                    for (int k = 0; k < vocab; k += 3) row[k] = float.NegativeInfinity;
                    row[vocab - 1] = 9f;
                    break;
                case 2: // all equal: index 0
                    row.Fill(-1.5f);
                    break;
                default: // the maximum at index 0, ties later
                    row[0] = 9f;
                    row[vocab / 2] = 9f;
                    break;
            }
        }
        var expected = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            int best = 0;
            for (int k = 1; k < vocab; k++) if (logits[r * vocab + k] > logits[r * vocab + best]) best = k;
            expected[r] = best;
        }
        using var lb = Buf.F32(b, rows, vocab, logits, before: 1, after: 1);
        using var ob = Buf.I32(b, rows, 1, before: 2, after: 1);
        b.ArgMax(lb.View, ob.View);
        TestData.AssertExact(ob.ReadInts(), expected, "ArgMax");
        ob.AssertPaddingIntact("ArgMax");
    }

    // ---- Sample ----------------------------------------------------------------------------------------------

    internal static readonly (string Name, SamplingOptions Options)[] SamplerOptions =
    [
        ("topk=50 topp=90pct temp=80pct penalty=130pct/16", new() { TopK = 50, TopP = 0.9f, Temperature = 0.8f, RepetitionPenalty = 1.3f, RepetitionWindow = 16 }),
        ("upstream default", new()),
        ("greedy topk=1 penalty=150pct/4", new() { TopK = 1, RepetitionPenalty = 1.5f, RepetitionWindow = 4 }),
        ("temp=0 penalty=80pct/3", new() { Temperature = 0f, RepetitionPenalty = 0.8f, RepetitionWindow = 3 }),
        ("minp=5pct temp=120pct", new() { MinP = 0.05f, Temperature = 1.2f }),
        ("topk=3 penalty=200pct/8", new() { TopK = 3, RepetitionPenalty = 2f, RepetitionWindow = 8 }),
    ];

    private static IEnumerable<OpCase> SampleCases()
    {
        foreach (var (name, options) in SamplerOptions)
            foreach (var (vocab, slots, batches) in new (int, int, int[][])[]
                     {
                         (1025, 1, [[0]]),
                         (1025, 3, [[0, 1, 2]]),
                         (7, 3, [[2, 0], [0, 1, 2], [1]]),
                         (1025, 8, [[0, 1, 2, 3, 4, 5, 6, 7], [7, 5, 3, 1], [6, 4, 2, 0, 1, 3, 5, 7]]),
                     })
            {
                bool identity = batches.All(s => s.SequenceEqual(Enumerable.Range(0, slots)));
                yield return new OpCase("Sample", $"vocab={vocab} slots={slots}", "f32", name + (identity ? " identity slots" : " permuted slots"),
                    new(OpKind.Sample, Vocab: vocab), b => Sample(b, vocab, Enumerable.Repeat(options, slots).ToArray(), batches, steps: 6));
            }
        // Every slot its own options: a batch mixes greedy and sampled rows.
        var mixed = SamplerOptions.Select(o => o.Options).ToArray();
        yield return new OpCase("Sample", $"vocab=1025 slots={mixed.Length}", "f32", "mixed options permuted slots",
            new(OpKind.Sample, Vocab: 1025), b => Sample(b, 1025, mixed, [[5, 3, 1, 0, 2, 4], [0, 1, 2, 3, 4, 5], [2, 4]], steps: 8));
    }

    /// <summary>
    /// <paramref name="steps"/> rounds; round i samples the slots <c>batches[i % batches.Length]</c> (row r: slot
    /// <c>slots[r]</c>) from fresh logits. Each slot must give exactly the tokens of a <see cref="TokenSampler"/> with the
    /// same options and seed fed the same logits and that slot's own history; argMax the raw logits' first argmax;
    /// greedy slots also the first argmax of the penalised logits, computed here.
    /// </summary>
    internal static void Sample(IComputeBackend b, int vocab, SamplingOptions[] options, int[][] batches, int steps)
    {
        options = options.Select((o, i) => o with { Seed = 1234567UL + (ulong)i * 7919UL }).ToArray();
        using var samplers = b.CreateSamplers(options, vocab, historyCapacity: 64);
        Assert.That(samplers.Slots, Is.EqualTo(options.Length));
        for (int s = 0; s < options.Length; s++) Assert.That(samplers.Seed(s), Is.EqualTo(options[s].Seed), $"slot {s} seed");
        var reference = options.Select(o => new TokenSampler(o, vocab)).ToArray();
        var history = options.Select(_ => new List<int>()).ToArray();
        for (int step = 0; step < steps; step++)
        {
            int[] slots = batches[step % batches.Length];
            int rows = slots.Length;
            var logits = TestData.Uniform(rows * vocab, 500 + step, scale: 3f);
            // Repeat an earlier token's logit at the top now and then, so the repetition penalty decides something.
            for (int r = 0; r < rows; r++)
                if (history[slots[r]].Count > 0 && (step + r) % 2 == 0)
                    logits[r * vocab + history[slots[r]][^1]] = 3.5f;
            using var lb = Buf.F32(b, rows, vocab, logits, before: 1, after: 1);
            using var tb = Buf.I32(b, rows, 1, before: 1);
            using var ab = Buf.I32(b, rows, 1, after: 2);
            b.Sample(samplers, lb.View, slots, tb.View, ab.View);
            var tokens = tb.ReadInts();
            var argMax = ab.ReadInts();
            tb.AssertPaddingIntact("Sample tokens");
            ab.AssertPaddingIntact("Sample argMax");

            var expectedTokens = new int[rows];
            var expectedArgMax = new int[rows];
            for (int r = 0; r < rows; r++)
            {
                int slot = slots[r];
                var row = logits.AsSpan(r * vocab, vocab);
                expectedArgMax[r] = FirstArgMax(row);
                if (options[slot].IsGreedy)
                    Assert.That(tokens[r], Is.EqualTo(PenalisedArgMax(row, options[slot], history[slot])),
                        $"step {step} row {r} slot {slot}: greedy token is the argmax of the penalised logits");
                expectedTokens[r] = reference[slot].Sample(row.ToArray(), history[slot].ToArray());
                history[slot].Add(expectedTokens[r]);
            }
            TestData.AssertExact(tokens, expectedTokens, $"Sample step {step} slots [{string.Join(",", slots)}]: tokens (TokenSampler)");
            TestData.AssertExact(argMax, expectedArgMax, $"Sample step {step}: raw argmax");
        }
    }

    internal static int FirstArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int k = 1; k < row.Length; k++) if (row[k] > row[best]) best = k;
        return best;
    }

    /// <summary>CTRL penalty over the distinct tokens of the last RepetitionWindow, then the first argmax.</summary>
    private static int PenalisedArgMax(ReadOnlySpan<float> logits, SamplingOptions o, List<int> history)
    {
        var row = logits.ToArray();
        int window = Math.Min(o.RepetitionWindow, history.Count);
        if (o.RepetitionPenalty != 1f)
            foreach (int token in history.Skip(history.Count - window).Distinct())
                row[token] = row[token] > 0 ? row[token] / o.RepetitionPenalty : row[token] * o.RepetitionPenalty;
        return FirstArgMax(row);
    }

    // ---- Increment -------------------------------------------------------------------------------------------

    private static IEnumerable<OpCase> IncrementCases()
    {
        foreach (int rows in new[] { 1, 3, 8 })
            foreach (int delta in new[] { 1, 5, -2 })
                yield return new OpCase("Increment", $"rows={rows}", "i32", $"delta={delta}", new(OpKind.Increment), b => Increment(b, rows, delta));
    }

    private static void Increment(IComputeBackend b, int rows, int delta)
    {
        var counters = TestData.Ints(rows, rows, 2000);
        using var cb = Buf.I32(b, rows, 1, counters, before: 2, after: 1);
        b.Increment(cb.View, delta);
        b.Increment(cb.View, delta);
        TestData.AssertExact(cb.ReadInts(), counters.Select(c => c + 2 * delta).ToArray(), "Increment");
        cb.AssertPaddingIntact("Increment");
    }
}
