namespace VallE.Runtime.Onnx;

/// <summary>
/// One loaded ONNX model (an <c>OrtSession</c>): its inputs and outputs as declared, and <see cref="Run"/>.
/// Errors from ONNX Runtime (unreadable model, wrong input at run time) become <see cref="OnnxRuntimeException"/>
/// naming the model file; every native object is released on every path.
/// </summary>
public sealed unsafe class OnnxSession : IDisposable
{
    private readonly OrtSessionHandle _session;

    public string ModelPath { get; }
    public IReadOnlyList<OnnxTensorInfo> Inputs { get; }
    public IReadOnlyList<OnnxTensorInfo> Outputs { get; }
    /// <summary>"CUDA" when the CUDA execution provider was appended, else "CPU".</summary>
    public string ExecutionProvider { get; }

    private OnnxSession(OrtSessionHandle session, string path, OnnxTensorInfo[] inputs, OnnxTensorInfo[] outputs, string provider)
    {
        _session = session;
        ModelPath = path;
        Inputs = inputs;
        Outputs = outputs;
        ExecutionProvider = provider;
    }

    public static OnnxSession Open(string modelPath, OnnxSessionOptions? options = null)
    {
        options ??= OnnxSessionOptions.Default;
        if (Directory.Exists(modelPath)) throw new InvalidInputException($"{modelPath}: is a directory, expected an .onnx model");
        if (!File.Exists(modelPath)) throw new InvalidInputException($"{modelPath}: file not found");
        if (options.IntraOpThreads < 0)
            throw new ArgumentOutOfRangeException(nameof(options.IntraOpThreads), $"IntraOpThreads {options.IntraOpThreads} must be 0 (default) or positive");
        if (options.InterOpThreads < 0)
            throw new ArgumentOutOfRangeException(nameof(options.InterOpThreads), $"InterOpThreads {options.InterOpThreads} must be 0 (default) or positive");
        OrtLibrary.EnsureLoaded(options.LibraryPath);
        void** api = OrtLibrary.Api;

        using var sessionOptions = new OrtSessionOptionsHandle();
        nint so;
        OrtLibrary.Check(((delegate* unmanaged<nint*, nint>)api[OrtNative.CreateSessionOptions])(&so));
        sessionOptions.Own(so);
        OrtLibrary.Check(((delegate* unmanaged<nint, int, nint>)api[OrtNative.SetIntraOpNumThreads])(so, options.IntraOpThreads));
        OrtLibrary.Check(((delegate* unmanaged<nint, int, nint>)api[OrtNative.SetInterOpNumThreads])(so, options.InterOpThreads));
        OrtLibrary.Check(((delegate* unmanaged<nint, int, nint>)api[OrtNative.SetSessionGraphOptimizationLevel])(so, OrtNative.GraphOptimizationAll));
        string provider = options.PreferCuda ? TryAppendCuda(so, options.Log) : "CPU";

        var session = new OrtSessionHandle();
        try
        {
            string full = Path.GetFullPath(modelPath);
            byte[] pathBytes = OrtLibrary.NulTerminated(full);
            nint s;
            fixed (byte* p = pathBytes)
                OrtLibrary.Check(((delegate* unmanaged<nint, byte*, nint, nint*, nint>)api[OrtNative.CreateSession])(
                    OrtLibrary.Env.DangerousGetHandle(), p, so, &s), $"{modelPath}: cannot load ONNX model");
            session.Own(s);
            var inputs = Describe(s, input: true);
            var outputs = Describe(s, input: false);
            return new OnnxSession(session, modelPath, inputs, outputs, provider);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs the model on named inputs and returns the requested outputs in order (the caller disposes them).
    /// Cancelling <paramref name="cancellationToken"/> stops the run between two nodes (<see cref="OrtRunCancellation"/>)
    /// and throws <see cref="OperationCanceledException"/>, not <see cref="OnnxRuntimeException"/>.
    /// </summary>
    public OnnxValue[] Run(IReadOnlyList<(string Name, OnnxValue Value)> inputs, IReadOnlyList<string> outputNames,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_session.IsClosed, this);
        cancellationToken.ThrowIfCancellationRequested();
        var inNames = inputs.Select(i => OrtLibrary.NulTerminated(i.Name)).ToArray();
        var outNames = outputNames.Select(OrtLibrary.NulTerminated).ToArray();
        var pins = new List<System.Runtime.InteropServices.GCHandle>();
        var results = new nint[outputNames.Count];
        int addRefs = 0;
        using var cancellation = new OrtRunCancellation(cancellationToken);
        try
        {
            var inNamePtrs = new nint[inNames.Length];
            var outNamePtrs = new nint[outNames.Length];
            for (int i = 0; i < inNames.Length; i++) inNamePtrs[i] = Pin(inNames[i], pins);
            for (int i = 0; i < outNames.Length; i++) outNamePtrs[i] = Pin(outNames[i], pins);
            var values = new nint[inputs.Count];
            foreach (var (_, v) in inputs) { bool ok = false; v.Handle.DangerousAddRef(ref ok); if (ok) addRefs++; }
            for (int i = 0; i < values.Length; i++) values[i] = inputs[i].Value.Handle.DangerousGetHandle();
            nint status;
            fixed (nint* inN = inNamePtrs, outN = outNamePtrs, vals = values, res = results)
            {
                status = ((delegate* unmanaged<nint, nint, nint*, nint*, nuint, nint*, nuint, nint*, nint>)OrtLibrary.Api[OrtNative.Run])(
                    _session.DangerousGetHandle(), cancellation.Options, inN, vals, (nuint)values.Length, outN, (nuint)outNamePtrs.Length, res);
            }
            try { OrtLibrary.Check(status, $"{ModelPath}: inference failed"); }
            catch (OnnxRuntimeException e) when (cancellationToken.IsCancellationRequested)
            {
                // The terminate flag stopped it (or it failed while being cancelled): report what the caller asked for.
                throw new OperationCanceledException($"{ModelPath}: inference cancelled", e, cancellationToken);
            }
        }
        catch
        {
            foreach (nint r in results) if (r != 0) { using var h = new OrtValueHandle(); h.Own(r); }
            throw;
        }
        finally
        {
            for (int i = 0; i < addRefs; i++) inputs[i].Value.Handle.DangerousRelease();
            foreach (var pin in pins) pin.Free();
        }
        var outputs = new OnnxValue[results.Length];
        try
        {
            for (int i = 0; i < results.Length; i++)
            {
                nint r = results[i];
                results[i] = 0;
                outputs[i] = OnnxValue.FromOutput(r);
            }
            return outputs;
        }
        catch
        {
            foreach (var o in outputs) o?.Dispose();
            foreach (nint r in results) if (r != 0) { using var h = new OrtValueHandle(); h.Own(r); }
            throw;
        }
    }

    public void Dispose() => _session.Dispose();

    private static nint Pin(byte[] bytes, List<System.Runtime.InteropServices.GCHandle> pins)
    {
        var h = System.Runtime.InteropServices.GCHandle.Alloc(bytes, System.Runtime.InteropServices.GCHandleType.Pinned);
        pins.Add(h);
        return h.AddrOfPinnedObject();
    }

    private static string TryAppendCuda(nint sessionOptions, Action<string>? log)
    {
        if (!OrtLibrary.AvailableProviders().Contains("CUDAExecutionProvider"))
        {
            log?.Invoke($"ONNX Runtime {OrtLibrary.Version} has no CUDA execution provider; the codec runs on the CPU");
            return "CPU";
        }
        var cuda = new OrtNative.CudaProviderOptions { GpuMemLimit = nuint.MaxValue, DoCopyInDefaultStream = 1 };
        nint status = ((delegate* unmanaged<nint, OrtNative.CudaProviderOptions*, nint>)OrtLibrary.Api[OrtNative.SessionOptionsAppendExecutionProvider_CUDA])(sessionOptions, &cuda);
        try
        {
            OrtLibrary.Check(status);
            return "CUDA";
        }
        catch (OnnxRuntimeException e)
        {
            log?.Invoke($"CUDA execution provider unavailable ({e.Message}); the codec runs on the CPU");
            return "CPU";
        }
    }

    private static OnnxTensorInfo[] Describe(nint session, bool input)
    {
        void** api = OrtLibrary.Api;
        nuint count;
        OrtLibrary.Check(((delegate* unmanaged<nint, nuint*, nint>)api[input ? OrtNative.SessionGetInputCount : OrtNative.SessionGetOutputCount])(session, &count));
        nint allocator;
        OrtLibrary.Check(((delegate* unmanaged<nint*, nint>)api[OrtNative.GetAllocatorWithDefaultOptions])(&allocator));
        var result = new OnnxTensorInfo[(int)count];
        for (int i = 0; i < result.Length; i++)
        {
            byte* name;
            OrtLibrary.Check(((delegate* unmanaged<nint, nuint, nint, byte**, nint>)api[input ? OrtNative.SessionGetInputName : OrtNative.SessionGetOutputName])(session, (nuint)i, allocator, &name));
            string nameText = OrtLibrary.Utf8(name);
            OrtLibrary.Check(((delegate* unmanaged<nint, void*, nint>)api[OrtNative.AllocatorFree])(allocator, name));

            nint typeInfo;
            OrtLibrary.Check(((delegate* unmanaged<nint, nuint, nint*, nint>)api[input ? OrtNative.SessionGetInputTypeInfo : OrtNative.SessionGetOutputTypeInfo])(session, (nuint)i, &typeInfo));
            using var typeHandle = new OrtTypeInfoHandle();
            typeHandle.Own(typeInfo);
            int onnxType;
            OrtLibrary.Check(((delegate* unmanaged<nint, int*, nint>)api[OrtNative.GetOnnxTypeFromTypeInfo])(typeInfo, &onnxType));
            if (onnxType != OrtNative.OnnxTypeTensor)
            {
                result[i] = new OnnxTensorInfo(nameText, OrtElementType.Undefined, []);
                continue;
            }
            nint tensorInfo; // owned by typeInfo: not released separately
            OrtLibrary.Check(((delegate* unmanaged<nint, nint*, nint>)api[OrtNative.CastTypeInfoToTensorInfo])(typeInfo, &tensorInfo));
            var (type, shape) = ReadTensorInfo(tensorInfo);
            result[i] = new OnnxTensorInfo(nameText, type, shape);
        }
        return result;
    }

    internal static (OrtElementType Type, long[] Shape) ReadTensorInfo(nint info)
    {
        void** api = OrtLibrary.Api;
        int type;
        OrtLibrary.Check(((delegate* unmanaged<nint, int*, nint>)api[OrtNative.GetTensorElementType])(info, &type));
        nuint rank;
        OrtLibrary.Check(((delegate* unmanaged<nint, nuint*, nint>)api[OrtNative.GetDimensionsCount])(info, &rank));
        var dims = new long[(int)rank];
        fixed (long* d = dims)
            OrtLibrary.Check(((delegate* unmanaged<nint, long*, nuint, nint>)api[OrtNative.GetDimensions])(info, d, rank));
        return ((OrtElementType)type, dims);
    }
}
