using System.Numerics.Tensors;
using Tensor = VallE.Runtime.Backends.Tensor;
using VallE.Runtime.Backends;
using VallE.Runtime.Models;
using VallE.Runtime.Sampling;

namespace VallE.Runtime.Cpu;

/// <summary>
/// The reference backend: every operation on managed arrays with the SIMD kernels of this folder (packed
/// f32/bf16/int8 linears, blocked attention over a channel-major KV cache), parallel loops on its own
/// <see cref="CpuBackend"/> worker pool. Everything it supports is exact float32 as upstream computes it on the CPU;
/// the op table test holds every other backend to it. Ops run synchronously: <see cref="Read(TensorRows, Span{int})"/>
/// waits for nothing.
/// </summary>
public sealed class CpuComputeBackend : IComputeBackend
{
    private readonly bool _ownsPool;
    private readonly AttentionJob _attention;
    private Segment[] _segments = [];
    private float[] _sampleRow = [];

    /// <param name="pool">the worker threads, ISA and attention settings the ops run with.</param>
    /// <param name="ownsPool">dispose <paramref name="pool"/> with this backend.</param>
    public CpuComputeBackend(CpuBackend pool, bool ownsPool = true)
    {
        ArgumentNullException.ThrowIfNull(pool);
        Pool = pool;
        _ownsPool = ownsPool;
        _attention = new AttentionJob(pool);
    }

    /// <summary>The worker pool, ISA and attention settings of this backend.</summary>
    public CpuBackend Pool { get; }

    public string Name => "cpu";

    public bool Supports(OpRequirement requirement, out string reason)
    {
        reason = "";
        return true;
    }

    // ---- memory --------------------------------------------------------------------------------------------

    public Tensor Allocate(TensorType type, int rows, int cols) => new CpuTensor(this, type, rows, cols);

    public void Write(TensorRows destination, ReadOnlySpan<float> values) => CopyExactly(values, F(destination));
    public void Write(TensorRows destination, ReadOnlySpan<int> values) => CopyExactly(values, I(destination));
    public void Read(TensorRows source, Span<float> values) => CopyExactly(F(source), values);
    public void Read(TensorRows source, Span<int> values) => CopyExactly(I(source), values);

    private static void CopyExactly<T>(ReadOnlySpan<T> from, Span<T> to)
    {
        if (from.Length != to.Length) throw new ArgumentException($"copy of {from.Length} values into {to.Length}");
        from.CopyTo(to);
    }

    // ---- weights and state ---------------------------------------------------------------------------------

    public DeviceTable CreateTable(string name, ReadOnlySpan<float> values, int rows, int dim)
    {
        if (values.Length != (long)rows * dim) throw new ArgumentException($"{name}: {values.Length} values for [{rows}, {dim}]");
        return new CpuTable(this, new Embedding(name, values.ToArray(), rows, dim));
    }

    public DeviceLinear CreateLinear(string name, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outFeatures, int inFeatures,
        WeightsDType dtype) =>
        new CpuLinear(this, name, LinearWeights.Create(weight, bias, outFeatures, inFeatures, dtype), !bias.IsEmpty);

    public DeviceNorm CreateNorm(string name, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float eps, float[][]? stageScaleShift)
    {
        if (gamma.Length != beta.Length) throw new ArgumentException($"{name}: gamma {gamma.Length} and beta {beta.Length} differ");
        int dim = gamma.Length;
        var layerNorm = new LayerNorm(gamma.ToArray(), beta.ToArray(), eps);
        if (stageScaleShift is null) return new CpuNorm(this, name, layerNorm, 0);
        foreach (var pair in stageScaleShift)
            if (pair.Length != 2 * dim) throw new ArgumentException($"{name}: an AdaLN stage has {pair.Length} values, expected {2 * dim}");
        var ada = new AdaptiveLayerNorm(layerNorm, [.. stageScaleShift.Select(p => p[..dim])], [.. stageScaleShift.Select(p => p[dim..])]);
        return new CpuNorm(this, name, ada, stageScaleShift.Length);
    }

    public DeviceConv CreateConv(string name, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> bnScale,
        ReadOnlySpan<float> bnShift, int dim, int kernel)
    {
        if (weight.Length != (long)dim * dim * kernel || bias.Length != dim || bnScale.Length != dim || bnShift.Length != dim)
            throw new ArgumentException($"{name}: conv weights do not match dim {dim}, kernel {kernel}");
        return new CpuConv(this, name, new ConvBlock(weight.ToArray(), bias.ToArray(), bnScale.ToArray(), bnShift.ToArray(), dim, kernel),
            dim, kernel);
    }

    public DevicePositions CreatePositions(string name, int dim, float alpha) => new CpuPositions(this, name, new SinePositions(dim, alpha));

    public DeviceKvCache CreateKvCache(string name, int slots, int layers, int capacity, int dim, bool keepsHistory) =>
        new CpuKvCache(this, name, slots, layers, capacity, dim, keepsHistory);

    public DeviceSamplers CreateSamplers(IReadOnlyList<SamplingOptions> options, int vocab, int historyCapacity) =>
        new CpuSamplers(this, options, vocab, historyCapacity);

    public IStepGraph CreateStepGraph() => new CpuStepGraph();

    public DeviceRmsNorm CreateRmsNorm(string name, ReadOnlySpan<float> weight, float eps)
    {
        if (weight.IsEmpty) throw new ArgumentException($"{name}: an RMSNorm needs a weight");
        return new CpuRmsNorm(this, name, weight.ToArray(), eps);
    }

    // ---- operations ----------------------------------------------------------------------------------------

    public void GatherSum(ReadOnlySpan<DeviceTable> tables, TensorRows ids, TensorRows destination)
    {
        if (tables.Length == 0 || tables.Length > ids.Cols) throw new ArgumentException($"{tables.Length} tables for ids of {ids.Cols} columns");
        SameRows(ids, destination);
        var id = I(ids);
        var y = F(destination);
        int d = destination.Cols, stride = ids.Cols;
        for (int j = 0; j < tables.Length; j++)
        {
            var table = Own<CpuTable>(tables[j]).Table;
            if (table.Dim != d) throw new ArgumentException($"{table.Name} has width {table.Dim}, the destination {d}");
            for (int r = 0; r < ids.Count; r++)
            {
                var row = y.Slice(r * d, d);
                if (j == 0) table.CopyTo(id[r * stride], row);
                else table.AddTo(id[r * stride + j], row);
            }
        }
    }

    public void AddPositions(DevicePositions positions, TensorRows x, int firstPosition)
    {
        var pe = Own<CpuPositions>(positions).Table;
        if (x.Cols != pe.Dim) throw new ArgumentException($"positions of width {pe.Dim} for rows of {x.Cols}");
        pe.Apply(F(x), firstPosition, x.Count);
    }

    public void AddPositions(DevicePositions positions, TensorRows x, TensorRows rowPositions)
    {
        var pe = Own<CpuPositions>(positions).Table;
        if (x.Cols != pe.Dim) throw new ArgumentException($"positions of width {pe.Dim} for rows of {x.Cols}");
        SameRows(rowPositions, x);
        var p = I(rowPositions);
        var y = F(x);
        int d = x.Cols;
        for (int r = 0; r < x.Count; r++) pe.Apply(y.Slice(r * d, d), p[r * rowPositions.Cols], 1);
    }

    public void Linear(DeviceLinear weights, TensorRows x, TensorRows y, Activation activation = Activation.None)
    {
        var w = Own<CpuLinear>(weights);
        SameRows(x, y);
        if (x.Cols != w.InFeatures || y.Cols != w.OutFeatures)
            throw new ArgumentException($"{w.Name} [{w.OutFeatures}, {w.InFeatures}] applied to [{x.Count}, {x.Cols}] -> [{y.Count}, {y.Cols}]");
        var output = F(y);
        w.Weights.Forward(Pool, F(x), x.Count, output);
        if (activation == Activation.Relu) TensorPrimitives.Max(output, 0f, output);
    }

    public void Add(TensorRows x, TensorRows delta)
    {
        SameShape(x, delta);
        var y = F(x);
        TensorPrimitives.Add(y, F(delta), y);
    }

    public void Norm(DeviceNorm norm, int stage, TensorRows x, TensorRows y)
    {
        var n = Own<CpuNorm>(norm);
        SameShape(x, y);
        CheckStage(n, stage, x.Cols);
        n.Norm.Apply(F(x), F(y), x.Count, stage);
    }

    public void AddNorm(DeviceNorm norm, int stage, TensorRows x, TensorRows delta, TensorRows y)
    {
        Add(x, delta);
        Norm(norm, stage, x, y);
    }

    public void Conv(DeviceConv conv, TensorRows x, TensorRows y)
    {
        var c = Own<CpuConv>(conv);
        SameShape(x, y);
        if (x.Cols != c.Dim) throw new ArgumentException($"{c.Name} of width {c.Dim} applied to rows of {x.Cols}");
        if (ReferenceEquals(x.Tensor, y.Tensor) && x.First < y.First + y.Count && y.First < x.First + x.Count)
            throw new ArgumentException("conv input and output overlap");
        c.Block.Apply(F(x), x.Count, F(y));
    }

    public void Copy(TensorRows source, TensorRows destination)
    {
        SameShape(source, destination);
        if (source.Tensor.Type == TensorType.F32) F(source).CopyTo(F(destination));
        else I(source).CopyTo(I(destination));
    }

    public void Attention(DeviceKvCache cache, int layer, int heads, TensorRows qkv, ReadOnlySpan<AttentionSegment> segments, TensorRows output)
    {
        var kv = Own<CpuKvCache>(cache);
        int d = CheckAttention(kv, layer, heads, qkv, output);
        var list = EnsureSegments(segments.Length);
        var q = F(qkv);
        for (int i = 0; i < segments.Length; i++)
        {
            var s = segments[i];
            if (s.Slot < 0 || s.Slot >= kv.Slots) throw new ArgumentOutOfRangeException(nameof(segments), $"slot {s.Slot} of {kv.Slots}");
            if (s.Row < 0 || s.Length < 0 || s.Row + s.Length > qkv.Count || s.Start < 0 || s.Start + s.Length > kv.Capacity)
                throw new ArgumentOutOfRangeException(nameof(segments), $"segment {s} outside {qkv.Count} rows or {kv.Capacity} positions");
            if (!kv.KeepsHistory && s.Start != 0) throw new ArgumentException($"{kv.Name} keeps no history: passes start at position 0");
            var c = kv.Caches[s.Slot];
            list[i] = new Segment(c, s.Row, s.Start, s.Length, s.TextLength, s.Causal);
            WriteKeysValues(c, layer, q, s.Row, s.Start, s.Length, d);
        }
        var o = (CpuTensor)output.Tensor;
        var t = (CpuTensor)qkv.Tensor;
        _attention.Run(new AttentionShape(layer, d, heads), list.AsSpan(0, segments.Length), t.Floats, (int)qkv.Offset, o.Floats,
            (int)output.Offset, qkv.Count, kv.Capacity);   // segments end within the capacity (checked above)
    }

    public void AttentionDecode(DeviceKvCache cache, int layer, int heads, TensorRows qkv, ReadOnlySpan<int> slots, TensorRows lengths, TensorRows output)
    {
        var kv = Own<CpuKvCache>(cache);
        int d = CheckAttention(kv, layer, heads, qkv, output);
        if (slots.Length != qkv.Count) throw new ArgumentException($"{slots.Length} slots for {qkv.Count} rows");
        SameRows(lengths, qkv);
        if (!kv.KeepsHistory) throw new ArgumentException($"{kv.Name} keeps no history: it cannot decode");
        var len = I(lengths);
        var list = EnsureSegments(slots.Length);
        var q = F(qkv);
        for (int r = 0; r < slots.Length; r++)
        {
            int slot = slots[r], n = len[r * lengths.Cols];
            if (slot < 0 || slot >= kv.Slots) throw new ArgumentOutOfRangeException(nameof(slots), $"slot {slot} of {kv.Slots}");
            if (n < 1 || n > kv.Capacity) throw new ArgumentOutOfRangeException(nameof(lengths), $"length {n} outside 1..{kv.Capacity}");
            var c = kv.Caches[slot];
            list[r] = new Segment(c, r, n - 1, 1, 0, Causal: true);
            WriteKeysValues(c, layer, q, r, n - 1, 1, d);
        }
        var o = (CpuTensor)output.Tensor;
        var t = (CpuTensor)qkv.Tensor;
        _attention.Run(new AttentionShape(layer, d, heads), list.AsSpan(0, slots.Length), t.Floats, (int)qkv.Offset, o.Floats,
            (int)output.Offset, qkv.Count, kv.Capacity);
    }

    // Keys and values of the new positions go to the cache before anyone attends to them (a prefill's text rows
    // attend to text rows that come later in the same segment). Channel-major: K[(h·hd + i)·capacity + pos].
    private static void WriteKeysValues(KvCache cache, int layer, ReadOnlySpan<float> qkv, int row, int start, int length, int d)
    {
        var keys = cache.Keys(layer);
        var values = cache.Values(layer);
        int cap = cache.Capacity;
        for (int i = 0; i < length; i++)
        {
            var q = qkv.Slice((row + i) * 3 * d, 3 * d);
            int pos = start + i;
            for (int c = 0; c < d; c++)
            {
                keys[c * cap + pos] = q[d + c];
                values[c * cap + pos] = q[2 * d + c];
            }
        }
    }

    private Segment[] EnsureSegments(int count)
    {
        if (_segments.Length < count) _segments = new Segment[Math.Max(count, 2 * _segments.Length)];
        return _segments;
    }

    private static int CheckAttention(CpuKvCache kv, int layer, int heads, TensorRows qkv, TensorRows output)
    {
        int d = kv.Dim;
        if (heads < 1 || d % heads != 0) throw new ArgumentException($"{heads} heads do not divide the width {d}");
        if (layer < 0 || layer >= kv.Layers) throw new ArgumentOutOfRangeException(nameof(layer), $"layer {layer} of {kv.Layers}");
        if (qkv.Cols != 3 * d || output.Cols != d) throw new ArgumentException($"q/k/v rows of {qkv.Cols} and output rows of {output.Cols} for width {d}");
        SameRows(qkv, output);
        return d;
    }

    public void ArgMax(TensorRows logits, TensorRows output)
    {
        SameRows(logits, output);
        var l = F(logits);
        var o = I(output);
        int v = logits.Cols;
        for (int r = 0; r < logits.Count; r++) o[r * output.Cols] = TokenSampler.ArgMax(l.Slice(r * v, v));
    }

    public void Sample(DeviceSamplers samplers, TensorRows logits, ReadOnlySpan<int> slots, TensorRows tokens, TensorRows argMax)
    {
        var s = Own<CpuSamplers>(samplers);
        if (slots.Length != logits.Count) throw new ArgumentException($"{slots.Length} slots for {logits.Count} rows");
        SameRows(logits, tokens);
        SameRows(logits, argMax);
        if (logits.Cols != s.Vocab) throw new ArgumentException($"logits of {logits.Cols} for samplers of {s.Vocab}");
        var l = F(logits);
        var t = I(tokens);
        var a = I(argMax);
        int v = logits.Cols;
        for (int r = 0; r < slots.Length; r++)
        {
            int slot = slots[r];
            // The sampler works in place (penalty, temperature); the op only reads the logits, as on a device, so
            // callers may still read them afterwards (best_of scoring).
            if (_sampleRow.Length < v) _sampleRow = new float[v];
            var row = _sampleRow.AsSpan(0, v);
            l.Slice(r * v, v).CopyTo(row);
            a[r * argMax.Cols] = TokenSampler.ArgMax(row);
            var history = s.History[slot];
            int count = s.Counts[slot];
            int token = s.Samplers[slot].Sample(row, history.AsSpan(0, Math.Min(count, history.Length)));
            t[r * tokens.Cols] = token;
            if (count < history.Length) history[count] = token;
            s.Counts[slot] = count + 1;
        }
    }

    public void Increment(TensorRows counters, int delta)
    {
        var c = I(counters);
        for (int i = 0; i < c.Length; i++) c[i] += delta;
    }

    public void RmsNorm(DeviceRmsNorm norm, TensorRows x, TensorRows y)
    {
        var n = Own<CpuRmsNorm>(norm);
        SameShape(x, y);
        if (x.Cols != n.Dim) throw new ArgumentException($"{n.Name} of width {n.Dim} applied to rows of {x.Cols}");
        LlamaOps.RmsNorm(F(x), F(y), x.Count, n.Weight, n.Eps);
    }

    public void Rope(TensorRows qkv, TensorRows positions, int heads, float theta)
    {
        SameRows(qkv, positions);
        if (qkv.Cols % 3 != 0) throw new ArgumentException($"q/k/v rows of {qkv.Cols} columns are not three equal parts");
        int d = qkv.Cols / 3;
        if (heads < 1 || d % heads != 0 || d / heads % 2 != 0)
            throw new ArgumentException($"{heads} heads do not split the width {d} into even head sizes");
        LlamaOps.Rope(F(qkv), I(positions), positions.Cols, qkv.Count, d, heads, theta);
    }

    public void GatedGelu(TensorRows gateUp, TensorRows y)
    {
        SameRows(gateUp, y);
        if (gateUp.Cols != 2 * y.Cols) throw new ArgumentException($"gate|up rows of {gateUp.Cols} for outputs of {y.Cols}");
        LlamaOps.GatedGelu(F(gateUp), F(y), y.Count, y.Cols);
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private Span<float> F(TensorRows rows)
    {
        var t = OwnTensor(rows.Tensor);
        if (t.Type != TensorType.F32) throw new ArgumentException($"{t} is not a float tensor");
        return t.Floats.AsSpan((int)rows.Offset, (int)rows.Elements);
    }

    private Span<int> I(TensorRows rows)
    {
        var t = OwnTensor(rows.Tensor);
        if (t.Type != TensorType.I32) throw new ArgumentException($"{t} is not an int tensor");
        return t.Ints.AsSpan((int)rows.Offset, (int)rows.Elements);
    }

    private CpuTensor OwnTensor(Tensor t) =>
        ReferenceEquals(t.Owner, this) && t is CpuTensor c ? c : throw new ArgumentException($"{t} belongs to another backend");

    private T Own<T>(DeviceObject o) where T : DeviceObject =>
        ReferenceEquals(o.Owner, this) && o is T t ? t : throw new ArgumentException($"{o.Name} belongs to another backend");

    private static void SameRows(TensorRows a, TensorRows b)
    {
        if (a.Count != b.Count) throw new ArgumentException($"row counts differ: {a} and {b}");
    }

    private static void SameShape(TensorRows a, TensorRows b)
    {
        if (a.Count != b.Count || a.Cols != b.Cols) throw new ArgumentException($"shapes differ: {a} and {b}");
    }

    private static void CheckStage(CpuNorm n, int stage, int cols)
    {
        if (cols != n.Dim) throw new ArgumentException($"{n.Name} of width {n.Dim} applied to rows of {cols}");
        if (n.Stages == 0 ? stage != 0 : stage < 1 || stage > n.Stages)
            throw new ArgumentOutOfRangeException(nameof(stage), $"stage {stage} for {n.Name} ({n.Stages} AdaLN stages)");
    }

    public void Dispose()
    {
        if (_ownsPool) Pool.Dispose();
    }

    public override string ToString() => $"cpu: {Pool}";
}
