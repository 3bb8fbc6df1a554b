using VallE.Runtime.Backends;

namespace VallE.Runtime.Cuda;

// The ops of CudaComputeBackend other than attention: each checks shapes and ownership on the host (ArgumentException:
// a model bug), then enqueues kernels on the device's stream. Nothing here allocates except GatherSum the first time
// it meets a combination of tables, and Conv's host scratch.
public sealed partial class CudaComputeBackend
{
    /// <summary>
    /// One kernel: valle_embed_pos (one table, one id column) or valle_embed_sum_pos over a device array of the
    /// tables' pointers and vocabularies, made once per combination of tables (never while recording a step).
    /// </summary>
    public void GatherSum(ReadOnlySpan<DeviceTable> tables, TensorRows ids, TensorRows destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (tables.Length == 0) throw new ArgumentException("GatherSum of no tables", nameof(tables));
        var idt = Own(ids, TensorType.I32, nameof(ids));
        var dst = Own(destination, TensorType.F32, nameof(destination));
        int dim = destination.Cols;
        SameRows("GatherSum", ids, destination);
        if (ids.Cols < tables.Length)
            throw new ArgumentException($"GatherSum: {tables.Length} tables but ids have {ids.Cols} columns", nameof(ids));
        for (int j = 0; j < tables.Length; j++)
        {
            var t = Own<CudaTable>(tables[j], nameof(tables));
            if (t.Dim != dim) throw new ArgumentException($"GatherSum: {t.Name} has width {t.Dim}, the destination {dim}", nameof(tables));
        }
        if (destination.Count == 0) return;
        if (tables.Length == 1 && ids.Cols == 1)
        {
            var t = (CudaTable)tables[0];
            CudaKernels.EmbedPositional(_device, CudaDType.F32, t.Values.Pointer, t.Rows, idt.At(ids), ids.Count, dim, 1f, 0f,
                positional: false, 0, 0, 0, dst.At(destination), dim);
            return;
        }
        var set = TableSetFor(tables);
        CudaKernels.EmbedSumPositional(_device, CudaDType.F32, set.Pointers.Pointer, set.Vocabs.Pointer, tables.Length, idt.At(ids),
            ids.Cols, ids.Count, dim, 1f, 0f, positional: false, 0, 0, dst.At(destination), dim);
    }

    /// <summary>valle_add_positions with positions <c>firstPosition + r</c>.</summary>
    public void AddPositions(DevicePositions positions, TensorRows x, int firstPosition)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var p = Own<CudaPositions>(positions, nameof(positions));
        var xt = Own(x, TensorType.F32, nameof(x));
        CheckWidth("AddPositions", x, p.Dim, nameof(x));
        ArgumentOutOfRangeException.ThrowIfNegative(firstPosition);
        CudaKernels.AddPositions(_device, xt.At(x), x.Count, p.Dim, x.Cols, p.Alpha, p.InverseFrequencies.Pointer, firstPosition, 0);
    }

    /// <summary>valle_add_positions with positions read from the int32 column on the device (a recorded step replays with new ones).</summary>
    public void AddPositions(DevicePositions positions, TensorRows x, TensorRows rowPositions)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var p = Own<CudaPositions>(positions, nameof(positions));
        var xt = Own(x, TensorType.F32, nameof(x));
        var pt = Own(rowPositions, TensorType.I32, nameof(rowPositions));
        CheckWidth("AddPositions", x, p.Dim, nameof(x));
        CheckWidth("AddPositions", rowPositions, 1, nameof(rowPositions));
        SameRows("AddPositions", x, rowPositions);
        CudaKernels.AddPositions(_device, xt.At(x), x.Count, p.Dim, x.Cols, p.Alpha, p.InverseFrequencies.Pointer, 0, pt.At(rowPositions));
    }

    /// <summary>cuBLAS Sgemm <c>x · Wᵀ</c> into y, then valle_bias_act (bias and/or ReLU) in place when either is there.</summary>
    public void Linear(DeviceLinear weights, TensorRows x, TensorRows y, Activation activation = Activation.None)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var w = Own<CudaLinear>(weights, nameof(weights));
        var xt = Own(x, TensorType.F32, nameof(x));
        var yt = Own(y, TensorType.F32, nameof(y));
        CheckWidth("Linear", x, w.InFeatures, nameof(x), w);
        CheckWidth("Linear", y, w.OutFeatures, nameof(y), w);
        SameRows("Linear", x, y, w);
        if (Overlap(x, y)) throw new ArgumentException($"Linear {w.Name}: y overlaps x", nameof(y));
        if (x.Count == 0) return;
        CudaBlas.LinearF32(_device, xt.At(x), w.Weight.Pointer, yt.At(y), x.Count, w.InFeatures, w.OutFeatures);
        bool relu = activation == Activation.Relu;
        if (w.Bias is not null || relu)
            CudaKernels.BiasAct(_device, CudaDType.F32, yt.At(y), w.Bias?.Pointer ?? 0, yt.At(y), y.Count, w.OutFeatures, relu);
    }

    /// <summary>valle_add_residual without bias.</summary>
    public void Add(TensorRows x, TensorRows delta)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var xt = Own(x, TensorType.F32, nameof(x));
        var dt = Own(delta, TensorType.F32, nameof(delta));
        CheckWidth("Add", delta, x.Cols, nameof(delta));
        SameRows("Add", x, delta);
        CheckAliasing("Add", x, delta, nameof(delta));
        if (x.Count == 0) return;
        CudaKernels.AddResidual(_device, xt.At(x), dt.At(delta), 0, x.Count, x.Cols);
    }

    /// <summary>valle_add_layernorm without delta (y may be x).</summary>
    public void Norm(DeviceNorm norm, int stage, TensorRows x, TensorRows y)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var n = Own<CudaNorm>(norm, nameof(norm));
        var xt = Own(x, TensorType.F32, nameof(x));
        var yt = Own(y, TensorType.F32, nameof(y));
        CheckWidth("Norm", x, n.Dim, nameof(x), n);
        CheckWidth("Norm", y, n.Dim, nameof(y), n);
        SameRows("Norm", x, y, n);
        CheckAliasing("Norm", x, y, nameof(y), n);
        var (scale, shift) = n.Stage(stage);
        if (x.Count == 0) return;
        CudaKernels.AddLayerNorm(_device, xt.At(x), 0, 0, n.Gamma.Pointer, n.Beta.Pointer, scale, shift, n.Eps, CudaDType.F32, yt.At(y),
            x.Count, n.Dim);
    }

    /// <summary>
    /// One fused valle_add_layernorm; when <paramref name="y"/> is <paramref name="x"/> (which the kernel refuses with a
    /// delta) valle_add_residual, then the norm in place.
    /// </summary>
    public void AddNorm(DeviceNorm norm, int stage, TensorRows x, TensorRows delta, TensorRows y)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var n = Own<CudaNorm>(norm, nameof(norm));
        var xt = Own(x, TensorType.F32, nameof(x));
        var dt = Own(delta, TensorType.F32, nameof(delta));
        var yt = Own(y, TensorType.F32, nameof(y));
        const string op = "AddNorm";
        CheckWidth(op, x, n.Dim, nameof(x), n);
        CheckWidth(op, delta, n.Dim, nameof(delta), n);
        CheckWidth(op, y, n.Dim, nameof(y), n);
        SameRows(op, x, delta, n);
        SameRows(op, x, y, n);
        CheckAliasing(op, x, delta, nameof(delta), n);
        CheckAliasing(op, x, y, nameof(y), n);
        // y = delta is fine for the kernel: each row's block reads its delta before a barrier and writes y after it.
        CheckAliasing(op, delta, y, nameof(y), n);
        var (scale, shift) = n.Stage(stage);
        if (x.Count == 0) return;
        if (SameView(x, y))
        {
            CudaKernels.AddResidual(_device, xt.At(x), dt.At(delta), 0, x.Count, n.Dim);
            CudaKernels.AddLayerNorm(_device, xt.At(x), 0, 0, n.Gamma.Pointer, n.Beta.Pointer, scale, shift, n.Eps, CudaDType.F32, xt.At(x),
                x.Count, n.Dim);
        }
        else
        {
            CudaKernels.AddLayerNorm(_device, xt.At(x), dt.At(delta), 0, n.Gamma.Pointer, n.Beta.Pointer, scale, shift, n.Eps, CudaDType.F32,
                yt.At(y), x.Count, n.Dim);
        }
    }

    /// <summary>
    /// HOST FALLBACK (no conv kernel): reads <paramref name="x"/> back (waiting for the stream), computes
    /// the CPU backend's <see cref="Cpu.ConvBlock"/> and writes <paramref name="y"/>. Supported, but not inside a recorded step.
    /// </summary>
    public void Conv(DeviceConv conv, TensorRows x, TensorRows y)
    {
        CheckUsable("Conv (a host fallback on CUDA)");
        var c = Own<CudaConv>(conv, nameof(conv));
        Own(x, TensorType.F32, nameof(x));
        Own(y, TensorType.F32, nameof(y));
        CheckWidth("Conv", x, c.Dim, nameof(x), c);
        CheckWidth("Conv", y, c.Dim, nameof(y), c);
        SameRows("Conv", x, y, c);
        if (Overlap(x, y)) throw new ArgumentException($"Conv {c.Name}: y overlaps x", nameof(y));
        if (x.Count == 0) return;
        int n = checked((int)x.Elements);
        if (_hostScratch.Length < 2 * n) _hostScratch = new float[2 * n];
        var input = _hostScratch.AsSpan(0, n);
        var output = _hostScratch.AsSpan(n, n);
        Read(x, input);
        c.Block.Apply(input, x.Count, output);
        Write(y, output);
    }

    /// <summary>cudaMemcpyAsync device to device on the stream.</summary>
    public void Copy(TensorRows source, TensorRows destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (source.Tensor is not CudaTensor { } st) throw new ArgumentException("Copy: source belongs to another backend", nameof(source));
        Own(source, st.Type, nameof(source));
        var dt = Own(destination, st.Type, nameof(destination));
        CheckWidth("Copy", destination, source.Cols, nameof(destination));
        SameRows("Copy", source, destination);
        if (SameView(source, destination) || source.Count == 0) return;
        if (Overlap(source, destination)) throw new ArgumentException("Copy: the destination overlaps the source", nameof(destination));
        CudaException.Check(CudaRuntimeNative.MemcpyAsync(dt.At(destination), st.At(source), (nuint)(source.Elements * CudaTensor.ElementBytes),
            CudaRuntimeNative.MemcpyDeviceToDevice, _device.Stream), "cudaMemcpyAsync(device to device)");
    }

    /// <summary>valle_argmax, one row per block.</summary>
    public void ArgMax(TensorRows logits, TensorRows output)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var lt = Own(logits, TensorType.F32, nameof(logits));
        var ot = Own(output, TensorType.I32, nameof(output));
        CheckWidth("ArgMax", output, 1, nameof(output));
        SameRows("ArgMax", logits, output);
        if (logits.Count == 0) return;
        CudaKernels.ArgMax(_device, CudaDType.F32, lt.At(logits), logits.Count, logits.Cols, logits.Cols, ot.At(output));
    }

    /// <summary>
    /// One valle_sample launch per row with slot <c>slots[r]</c>'s options, seed, history, length and counter (rows = 1,
    /// so the Philox stream word is 0: the CPU <see cref="Sampling.TokenSampler"/>'s stream 0).
    /// </summary>
    public void Sample(DeviceSamplers samplers, TensorRows logits, ReadOnlySpan<int> slots, TensorRows tokens, TensorRows argMax)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var s = Own<CudaSamplers>(samplers, nameof(samplers));
        var lt = Own(logits, TensorType.F32, nameof(logits));
        var tt = Own(tokens, TensorType.I32, nameof(tokens));
        var at = Own(argMax, TensorType.I32, nameof(argMax));
        CheckWidth("Sample", logits, s.Vocab, nameof(logits));
        CheckWidth("Sample", tokens, 1, nameof(tokens));
        CheckWidth("Sample", argMax, 1, nameof(argMax));
        SameRows("Sample", logits, tokens);
        SameRows("Sample", logits, argMax);
        if (slots.Length != logits.Count)
            throw new ArgumentException($"Sample: {slots.Length} slots for {logits.Count} rows", nameof(slots));
        CheckSlots("Sample", slots, s.Slots);
        int vocab = s.Vocab, capacity = s.HistoryCapacity;
        for (int r = 0; r < slots.Length; r++)
        {
            int slot = slots[r];
            nint history = capacity > 0 ? s.History.At<int>((long)slot * capacity) : 0;
            nint length = capacity > 0 ? s.HistoryLengths.At<int>(slot) : 0;
            CudaKernels.Sample(_device, CudaDType.F32, lt.At(logits) + (nint)r * vocab * sizeof(float), 1, vocab, vocab, s.Options[slot],
                s.Seed(slot), history, capacity, length, s.Counters.At<ulong>(slot), tt.At(tokens) + r * sizeof(int),
                at.At(argMax) + r * sizeof(int));
        }
    }

    // ---- LLaMA-block ops (e-c-k-e-r/vall-e): valle_rms_norm, valle_rope, valle_gated_gelu (ABI 5) ------------

    /// <summary>Uploads the fp32 weight (fp32 math, as the CPU's LlamaOps).</summary>
    public DeviceRmsNorm CreateRmsNorm(string name, ReadOnlySpan<float> weight, float eps)
    {
        CheckUsable("CreateRmsNorm");
        if (weight.IsEmpty) throw new ArgumentException($"{name}: an RMSNorm needs a weight", nameof(weight));
        return new CudaRmsNorm(this, name, weight.Length, eps, _device.Upload(weight));
    }

    /// <summary>valle_rms_norm, one block per row (y may be x).</summary>
    public void RmsNorm(DeviceRmsNorm norm, TensorRows x, TensorRows y)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var n = Own<CudaRmsNorm>(norm, nameof(norm));
        var xt = Own(x, TensorType.F32, nameof(x));
        var yt = Own(y, TensorType.F32, nameof(y));
        CheckWidth("RmsNorm", x, n.Dim, nameof(x), n);
        CheckWidth("RmsNorm", y, n.Dim, nameof(y), n);
        SameRows("RmsNorm", x, y, n);
        CheckAliasing("RmsNorm", x, y, nameof(y), n);
        if (x.Count == 0) return;
        CudaKernels.RmsNorm(_device, xt.At(x), n.Dim, n.Weight.Pointer, n.Eps, yt.At(y), n.Dim, x.Count, n.Dim);
    }

    /// <summary>
    /// valle_rope in place on the q and k blocks, positions read on the device (a recorded step replays with new ones).
    /// The frequencies are the CPU's <see cref="Cpu.LlamaOps.Frequencies"/>, uploaded once per (head size, theta) outside
    /// a recording; a recording that meets a new pair lets the kernel compute the same formula on the device.
    /// </summary>
    public void Rope(TensorRows qkv, TensorRows positions, int heads, float theta)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var qt = Own(qkv, TensorType.F32, nameof(qkv));
        var pt = Own(positions, TensorType.I32, nameof(positions));
        SameRows("Rope", qkv, positions);
        if (qkv.Cols % 3 != 0) throw new ArgumentException($"Rope: q/k/v rows of {qkv.Cols} columns are not three equal parts", nameof(qkv));
        int dim = qkv.Cols / 3;
        if (heads < 1 || dim % heads != 0 || dim / heads % 2 != 0)
            throw new ArgumentException($"Rope: {heads} heads do not split the width {dim} into even head sizes", nameof(heads));
        if (!(theta > 0f)) throw new ArgumentOutOfRangeException(nameof(theta), $"Rope: theta {theta}");
        if (positions.Cols < 1) throw new ArgumentException("Rope: positions have no column", nameof(positions));
        if (qkv.Count == 0) return;
        nint freq = RopeFrequencies(dim / heads, theta);
        CudaKernels.Rope(_device, qt.At(qkv), qkv.Cols, qkv.Count, dim, heads, theta, freq, pt.At(positions), positions.Cols);
    }

    /// <summary>valle_gated_gelu over packed gate|up rows.</summary>
    public void GatedGelu(TensorRows gateUp, TensorRows y)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var gt = Own(gateUp, TensorType.F32, nameof(gateUp));
        var yt = Own(y, TensorType.F32, nameof(y));
        SameRows("GatedGelu", gateUp, y);
        if (gateUp.Cols != 2 * y.Cols)
            throw new ArgumentException($"GatedGelu: gate|up rows of {gateUp.Cols} for outputs of {y.Cols}", nameof(gateUp));
        if (Overlap(gateUp, y)) throw new ArgumentException("GatedGelu: y overlaps gate|up", nameof(y));
        if (y.Count == 0 || y.Cols == 0) return;
        CudaKernels.GatedGelu(_device, gt.At(gateUp), gateUp.Cols, yt.At(y), y.Cols, y.Count, y.Cols);
    }

    /// <summary>Device tables of the rotary frequencies, one per (head size, theta), made on first use.</summary>
    private readonly List<(int HeadDim, float Theta, CudaBuffer Table)> _ropeTables = [];

    private nint RopeFrequencies(int headDim, float theta)
    {
        foreach (var (hd, th, table) in _ropeTables)
            if (hd == headDim && th.Equals(theta)) return table.Pointer;
        if (_recording) return 0; // no upload inside a capture: the kernel computes the same formula
        var made = _device.Upload<float>(Cpu.LlamaOps.Frequencies(headDim, theta));
        _ropeTables.Add((headDim, theta, made));
        return made.Pointer;
    }

    /// <summary>valle_counter_add over every element of the view.</summary>
    public void Increment(TensorRows counters, int delta)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var ct = Own(counters, TensorType.I32, nameof(counters));
        if (counters.Elements == 0) return;
        CudaKernels.CounterAdd(_device, ct.At(counters), checked((int)counters.Elements), delta);
    }

    // ---- GatherSum's device arrays -------------------------------------------------------------------------

    /// <summary>A combination of tables as valle_embed_sum_pos takes it: device arrays of their pointers and row counts.</summary>
    private sealed class TableSet(DeviceTable[] tables, CudaBuffer pointers, CudaBuffer vocabs) : IDisposable
    {
        public DeviceTable[] Tables { get; } = tables;
        public CudaBuffer Pointers { get; } = pointers;
        public CudaBuffer Vocabs { get; } = vocabs;

        public bool Matches(ReadOnlySpan<DeviceTable> tables)
        {
            if (tables.Length != Tables.Length) return false;
            for (int j = 0; j < tables.Length; j++)
                if (!ReferenceEquals(tables[j], Tables[j])) return false;
            return true;
        }

        public void Dispose()
        {
            Pointers.Dispose();
            Vocabs.Dispose();
        }
    }

    private TableSet TableSetFor(ReadOnlySpan<DeviceTable> tables)
    {
        foreach (var set in _tableSets)
            if (set.Matches(tables)) return set;
        CheckUsable("GatherSum over a combination of tables not seen before (it uploads their pointers)");
        var pointers = new long[tables.Length];
        var vocabs = new int[tables.Length];
        for (int j = 0; j < tables.Length; j++)
        {
            var t = (CudaTable)tables[j];
            pointers[j] = t.Values.Pointer;
            vocabs[j] = t.Rows;
        }
        var p = _device.Upload<long>(pointers);
        try
        {
            var made = new TableSet(tables.ToArray(), p, _device.Upload<int>(vocabs));
            _tableSets.Add(made);
            return made;
        }
        catch
        {
            p.Dispose();
            throw;
        }
    }

    // ---- shape checks ---------------------------------------------------------------------------------------

    // The op's name and its weights' are formatted only when a check fails: no string is built per call.
    private static string What(string op, DeviceObject? weights) => weights is null ? op : $"{op} {weights.Name}";

    private static void CheckWidth(string op, TensorRows rows, int cols, string name, DeviceObject? weights = null)
    {
        if (rows.Cols != cols)
            throw new ArgumentException($"{What(op, weights)}: {name} is {rows} where {cols} columns are needed", name);
    }

    private static void SameRows(string op, TensorRows a, TensorRows b, DeviceObject? weights = null)
    {
        if (a.Count != b.Count) throw new ArgumentException($"{What(op, weights)}: {a} and {b} differ in rows");
    }

    private static bool SameView(TensorRows a, TensorRows b) =>
        ReferenceEquals(a.Tensor, b.Tensor) && a.First == b.First && a.Count == b.Count;

    private static bool Overlap(TensorRows a, TensorRows b) =>
        ReferenceEquals(a.Tensor, b.Tensor) && a.Count > 0 && b.Count > 0 && a.First < b.First + b.Count && b.First < a.First + a.Count;

    /// <summary>Row-wise kernels take the very same rows or disjoint ones, never a shifted overlap.</summary>
    private static void CheckAliasing(string op, TensorRows a, TensorRows b, string name, DeviceObject? weights = null)
    {
        if (Overlap(a, b) && !SameView(a, b)) throw new ArgumentException($"{What(op, weights)}: {b} partly overlaps {a}", name);
    }

    private static void CheckSlots(string op, ReadOnlySpan<int> slots, int count)
    {
        foreach (int s in slots)
            if ((uint)s >= (uint)count) throw new ArgumentOutOfRangeException(nameof(slots), $"{op}: slot {s} of {count}");
    }
}
