using VallE.Runtime.Backends;
using VallE.Runtime.Cpu;
using VallE.Runtime.Sampling;

namespace VallE.Runtime.Cuda;

/// <summary>
/// <see cref="IComputeBackend"/> on one GPU: libvalle_kernels launches and cuBLAS fp32 gemms, in order on the
/// device's stream; no model logic. Every op only enqueues work (<see cref="Read(TensorRows, Span{float})"/> is the
/// sync point), so a step can be recorded as a CUDA graph (<see cref="CreateStepGraph"/>), except
/// <see cref="Conv"/>, which runs on the host (no conv kernel: it reads its rows back, computes, and writes the
/// result). Every CUDA failure surfaces as a <see cref="CudaException"/>.
/// <para>
/// What it does not run (see <see cref="Supports"/>): bf16 or int8 linear weights, heads wider than 128, sampling
/// over more than <see cref="ValleKernelsNative.SampleMaxVocab"/> tokens, and attention segments that continue a
/// cached sequence with more than one row.
/// </para>
/// This file: construction, <see cref="Supports"/>, memory, weights and state; the ops are in
/// CudaComputeBackend.Ops.cs and CudaComputeBackend.Attention.cs.
/// </summary>
public sealed partial class CudaComputeBackend : IComputeBackend
{
    /// <summary>Widest attention head the kernels take (kMaxHeadDim in attention.cu).</summary>
    public const int MaxHeadDim = 128;

    private readonly CudaDevice _device;
    private readonly bool _ownsDevice;
    private readonly List<TableSet> _tableSets = [];
    private float[] _hostScratch = [];
    private bool _recording;
    private bool _disposed;

    public CudaComputeBackend(CudaDevice device, bool ownsDevice = false)
    {
        ArgumentNullException.ThrowIfNull(device);
        _device = device;
        _ownsDevice = ownsDevice;
    }

    public string Name => "cuda";

    public CudaDevice Device => _device;

    public bool Supports(OpRequirement requirement, out string reason) => SupportsOp(requirement, out reason);

    /// <summary><see cref="Supports"/> without a device: what this backend can run depends on no GPU property.</summary>
    internal static bool SupportsOp(OpRequirement requirement, out string reason)
    {
        reason = "";
        switch (requirement.Op)
        {
            case OpKind.Linear when requirement.DType == WeightsDType.BF16:
                reason = "the CUDA backend runs fp32 linear layers only (cuBLAS Sgemm on fp32 weights); bf16 weights with " +
                         "fp32 activations have no CUDA path: load the model with fp32 weights";
                return false;
            case OpKind.Linear when requirement.DType == WeightsDType.Int8:
                reason = "the CUDA backend runs fp32 linear layers only; int8 weight-only quantised layers have no CUDA " +
                         "kernel: load the model with fp32 weights";
                return false;
            case OpKind.Linear when requirement.DType != WeightsDType.F32:
                reason = $"the CUDA backend runs fp32 linear layers only, not {requirement.DType}";
                return false;
            case OpKind.Attention or OpKind.AttentionDecode when requirement.HeadDim < 1 || requirement.HeadDim > MaxHeadDim:
                reason = $"the CUDA attention kernels take heads of 1 to {MaxHeadDim} values, not {requirement.HeadDim}";
                return false;
            case OpKind.Sample when requirement.Vocab < 1 || requirement.Vocab > ValleKernelsNative.SampleMaxVocab:
                reason = $"the CUDA sampler handles vocabularies of 1 to {ValleKernelsNative.SampleMaxVocab} tokens, not {requirement.Vocab}";
                return false;
            default:
                // Conv included: it runs on the host (see Conv).
                return true;
        }
    }

    // ---- memory --------------------------------------------------------------------------------------------

    public Tensor Allocate(TensorType type, int rows, int cols)
    {
        CheckUsable("Allocate");
        return new CudaTensor(this, _device, type, rows, cols);
    }

    public void Write(TensorRows destination, ReadOnlySpan<float> values)
    {
        CheckUsable("Write");
        var t = Own(destination, TensorType.F32, nameof(destination));
        CheckLength(values.Length, destination, nameof(values));
        if (values.Length > 0) t.Buffer.Upload(values, destination.Offset);
    }

    public void Write(TensorRows destination, ReadOnlySpan<int> values)
    {
        CheckUsable("Write");
        var t = Own(destination, TensorType.I32, nameof(destination));
        CheckLength(values.Length, destination, nameof(values));
        if (values.Length > 0) t.Buffer.Upload(values, destination.Offset);
    }

    public void Read(TensorRows source, Span<float> values)
    {
        CheckUsable("Read");
        var t = Own(source, TensorType.F32, nameof(source));
        CheckLength(values.Length, source, nameof(values));
        if (values.Length > 0) t.Buffer.Download(values, source.Offset);
        else _device.Synchronize();
    }

    public void Read(TensorRows source, Span<int> values)
    {
        CheckUsable("Read");
        var t = Own(source, TensorType.I32, nameof(source));
        CheckLength(values.Length, source, nameof(values));
        if (values.Length > 0) t.Buffer.Download(values, source.Offset);
        else _device.Synchronize();
    }

    private static void CheckLength(int length, TensorRows rows, string name)
    {
        if (length != rows.Elements)
            throw new ArgumentException($"{length} values for {rows} ({rows.Elements} elements)", name);
    }

    // ---- weights and state ---------------------------------------------------------------------------------

    public DeviceTable CreateTable(string name, ReadOnlySpan<float> values, int rows, int dim)
    {
        CheckUsable("CreateTable");
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1);
        if (values.Length != (long)rows * dim) throw new ArgumentException($"{name}: {values.Length} values for [{rows}, {dim}]", nameof(values));
        return new CudaTable(this, name, rows, dim, _device.Upload(values));
    }

    /// <summary>fp32 only (<paramref name="dtype"/> BF16 or Int8 throws <see cref="NotSupportedException"/>, see <see cref="Supports"/>).</summary>
    public DeviceLinear CreateLinear(string name, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outFeatures, int inFeatures,
        WeightsDType dtype)
    {
        CheckUsable("CreateLinear");
        if (!SupportsOp(new OpRequirement(OpKind.Linear, dtype), out string why)) throw new NotSupportedException($"{name}: {why}");
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        if (weight.Length != (long)outFeatures * inFeatures)
            throw new ArgumentException($"{name}: {weight.Length} weights for [{outFeatures}, {inFeatures}]", nameof(weight));
        if (bias.Length != 0 && bias.Length != outFeatures)
            throw new ArgumentException($"{name}: {bias.Length} bias values for {outFeatures} outputs", nameof(bias));
        var w = _device.Upload(weight);
        try
        {
            return new CudaLinear(this, name, outFeatures, inFeatures, w, bias.Length == 0 ? null : _device.Upload(bias));
        }
        catch
        {
            w.Dispose();
            throw;
        }
    }

    public DeviceNorm CreateNorm(string name, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float eps, float[][]? stageScaleShift)
    {
        CheckUsable("CreateNorm");
        int dim = gamma.Length;
        if (dim < 1 || beta.Length != dim) throw new ArgumentException($"{name}: gamma of {dim} and beta of {beta.Length} values", nameof(beta));
        int stages = stageScaleShift?.Length ?? 0;
        float[]? pairs = null;
        if (stageScaleShift is not null)
        {
            pairs = new float[2L * dim * stages];
            for (int s = 0; s < stages; s++)
            {
                if (stageScaleShift[s] is not { } pair || pair.Length != 2 * dim)
                    throw new ArgumentException($"{name}: stage {s + 1} has {stageScaleShift[s]?.Length ?? 0} values, not 2 * {dim}", nameof(stageScaleShift));
                pair.CopyTo(pairs, 2L * dim * s);
            }
        }
        var owned = new List<CudaBuffer>(3);
        try
        {
            var g = Track(owned, _device.Upload(gamma));
            var b = Track(owned, _device.Upload(beta));
            var ss = pairs is null ? null : Track(owned, _device.Upload<float>(pairs));
            return new CudaNorm(this, name, dim, stages, eps, g, b, ss);
        }
        catch
        {
            foreach (var o in owned) o.Dispose();
            throw;
        }
    }

    /// <summary>Keeps the weights on the host: Conv runs there (see <see cref="Conv"/>).</summary>
    public DeviceConv CreateConv(string name, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> bnScale,
        ReadOnlySpan<float> bnShift, int dim, int kernel)
    {
        CheckUsable("CreateConv");
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernel, 1);
        if (weight.Length != (long)dim * dim * kernel || bias.Length != dim || bnScale.Length != dim || bnShift.Length != dim)
            throw new ArgumentException($"{name}: weight {weight.Length}, bias {bias.Length}, BN {bnScale.Length}/{bnShift.Length} values " +
                                        $"for Conv1d({dim}, {dim}, {kernel})", nameof(weight));
        return new CudaConv(this, name, dim, kernel, new Cpu.ConvBlock(weight.ToArray(), bias.ToArray(), bnScale.ToArray(), bnShift.ToArray(), dim, kernel));
    }

    public DevicePositions CreatePositions(string name, int dim, float alpha)
    {
        CheckUsable("CreatePositions");
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1);
        return new CudaPositions(this, name, dim, alpha, _device.Upload<float>(Models.SinePositions.Frequencies(dim)));
    }

    public DeviceKvCache CreateKvCache(string name, int slots, int layers, int capacity, int dim, bool keepsHistory)
    {
        CheckUsable("CreateKvCache");
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1);
        return new CudaKvCache(this, _device, name, slots, layers, capacity, dim, keepsHistory);
    }

    public DeviceSamplers CreateSamplers(IReadOnlyList<SamplingOptions> options, int vocab, int historyCapacity)
    {
        CheckUsable("CreateSamplers");
        ArgumentNullException.ThrowIfNull(options);
        if (options.Count == 0) throw new ArgumentException("no sampler options", nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(historyCapacity);
        if (!SupportsOp(new OpRequirement(OpKind.Sample, Vocab: vocab), out string why)) throw new NotSupportedException(why);
        foreach (var o in options)
        {
            ArgumentNullException.ThrowIfNull(o, nameof(options));
            o.Validate();
        }
        return new CudaSamplers(this, _device, options, vocab, historyCapacity);
    }

    public IStepGraph CreateStepGraph()
    {
        CheckUsable("CreateStepGraph");
        return new CudaStepGraph(this);
    }

    /// <summary>Records <paramref name="body"/> into a CUDA graph (<see cref="CudaStepGraph"/>), refusing non-enqueueing calls meanwhile.</summary>
    internal CudaGraph Record(Action body)
    {
        CheckUsable("a step graph recording");
        _recording = true;
        try
        {
            return CudaGraph.Capture(_device, body);
        }
        finally
        {
            _recording = false;
        }
    }

    /// <summary>Whether a step is being recorded (ops only enqueue then).</summary>
    internal bool IsRecording => _recording;

    // ---- checks ---------------------------------------------------------------------------------------------

    private void CheckUsable(string what)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_recording)
            throw new InvalidOperationException($"{what} while a CUDA step graph is being recorded: a recorded step may only " +
                                                "enqueue work (no Read, Write, allocation or host fallback)");
    }

    private CudaTensor Own(TensorRows rows, TensorType type, string name)
    {
        if (rows.Tensor is not CudaTensor t || !ReferenceEquals(t.Owner, this))
            throw new ArgumentException($"{name}: {rows.Tensor} belongs to another backend", name);
        if (t.Type != type) throw new ArgumentException($"{name}: a {t.Type} tensor where {type} is needed", name);
        return t;
    }

    private T Own<T>(DeviceObject? obj, string name) where T : DeviceObject
    {
        ArgumentNullException.ThrowIfNull(obj, name);
        if (obj is not T typed || !ReferenceEquals(obj.Owner, this))
            throw new ArgumentException($"{name}: {obj.Name} was made by another backend", name);
        return typed;
    }

    private static CudaBuffer Track(List<CudaBuffer> owned, CudaBuffer buffer)
    {
        owned.Add(buffer);
        return buffer;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var set in _tableSets) set.Dispose();
        _tableSets.Clear();
        foreach (var (_, _, table) in _ropeTables) table.Dispose();
        _ropeTables.Clear();
        if (_ownsDevice) _device.Dispose();
    }
}
