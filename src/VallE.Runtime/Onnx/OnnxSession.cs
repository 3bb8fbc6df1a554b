using Ort = Microsoft.ML.OnnxRuntime;

namespace VallE.Runtime.Onnx;

/// <summary>
/// One loaded ONNX model (the package's <see cref="Ort.InferenceSession"/>): its inputs and outputs as declared, and
/// <see cref="Run"/>. Errors from ONNX Runtime (unreadable model, wrong input at run time) become
/// <see cref="OnnxRuntimeException"/> naming the model file; every native object is released on every path.
/// </summary>
public sealed class OnnxSession : IDisposable
{
    private readonly Ort.InferenceSession _session;
    private bool _disposed;

    public string ModelPath { get; }
    public IReadOnlyList<OnnxTensorInfo> Inputs { get; }
    public IReadOnlyList<OnnxTensorInfo> Outputs { get; }
    /// <summary>"CUDA" when the CUDA execution provider was appended, else "CPU".</summary>
    public string ExecutionProvider { get; }
    /// <summary>The model's custom metadata (ONNX <c>metadata_props</c>), e.g. <c>valle.vocoder</c>; empty when it has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    private OnnxSession(Ort.InferenceSession session, string path, OnnxTensorInfo[] inputs, OnnxTensorInfo[] outputs, string provider,
        IReadOnlyDictionary<string, string> metadata)
    {
        Metadata = metadata;
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
        _ = OrtRuntime.Env;

        using var sessionOptions = new Ort.SessionOptions
        {
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = options.InterOpThreads,
            GraphOptimizationLevel = Ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = Ort.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        string provider = options.PreferCuda ? TryAppendCuda(sessionOptions, options.Log) : "CPU";

        Ort.InferenceSession session;
        try { session = new Ort.InferenceSession(Path.GetFullPath(modelPath), sessionOptions); }
        catch (Ort.OnnxRuntimeException e) { throw OrtRuntime.Wrap(e, $"{modelPath}: cannot load ONNX model"); }
        try
        {
            var inputs = session.InputNames.Select(n => Describe(n, session.InputMetadata[n])).ToArray();
            var outputs = session.OutputNames.Select(n => Describe(n, session.OutputMetadata[n])).ToArray();
            var modelMetadata = session.ModelMetadata;
            var metadata = new Dictionary<string, string>(modelMetadata.CustomMetadataMap, StringComparer.Ordinal);
            return new OnnxSession(session, modelPath, inputs, outputs, provider, metadata);
        }
        catch (Ort.OnnxRuntimeException e)
        {
            session.Dispose();
            throw OrtRuntime.Wrap(e, $"{modelPath}: cannot read the model's inputs and outputs");
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
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        var names = inputs.Select(i => i.Name).ToArray();
        var values = inputs.Select(i => i.Value.Value).ToArray();
        using var cancellation = new OrtRunCancellation(cancellationToken);
        Ort.IDisposableReadOnlyCollection<Ort.OrtValue> results;
        try { results = _session.Run(cancellation.Options, names, values, outputNames.ToArray()); }
        catch (Ort.OnnxRuntimeException e) when (cancellationToken.IsCancellationRequested)
        {
            // The terminate flag stopped it (or it failed while being cancelled): report what the caller asked for.
            throw new OperationCanceledException($"{ModelPath}: inference cancelled", OrtRuntime.Wrap(e, $"{ModelPath}: inference failed"), cancellationToken);
        }
        catch (Ort.OnnxRuntimeException e) { throw OrtRuntime.Wrap(e, $"{ModelPath}: inference failed"); }

        var outputs = new OnnxValue[results.Count];
        int taken = 0;
        try
        {
            foreach (var r in results) outputs[taken++] = OnnxValue.FromOutput(r);
            return outputs;
        }
        catch
        {
            // Values already wrapped are disposed through their wrappers, the rest with the collection.
            for (int i = 0; i < taken; i++) outputs[i]?.Dispose();
            foreach (var r in results.Skip(taken)) r.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _session.Dispose();
    }

    private static string TryAppendCuda(Ort.SessionOptions sessionOptions, Action<string>? log)
    {
        var env = OrtRuntime.Env;
        if (!env.GetAvailableProviders().Contains("CUDAExecutionProvider"))
        {
            log?.Invoke($"ONNX Runtime {env.GetVersionString()} has no CUDA execution provider; the codec runs on the CPU");
            return "CPU";
        }
        try
        {
            sessionOptions.AppendExecutionProvider_CUDA(0);
            return "CUDA";
        }
        catch (Ort.OnnxRuntimeException e)
        {
            log?.Invoke($"CUDA execution provider unavailable ({OrtRuntime.Wrap(e, "CUDA").Message}); the codec runs on the CPU");
            return "CPU";
        }
    }

    private static OnnxTensorInfo Describe(string name, Ort.NodeMetadata meta) =>
        meta.OnnxValueType != Ort.OnnxValueType.ONNX_TYPE_TENSOR
            ? new OnnxTensorInfo(name, OrtElementType.Undefined, [])
            : new OnnxTensorInfo(name, (OrtElementType)(int)meta.ElementDataType, meta.Dimensions.Select(d => (long)d).ToArray());
}
