namespace VallE.Runtime.Cuda;

/// <summary>
/// A sequence of kernels captured once from the device's stream and replayed with one launch: the AR decode step
/// (embedding, every layer, logits, sampling, counter advance) costs one CPU→GPU submission per token. Values that
/// change per token must live in device memory (see valle_kernels.h), because a replay reuses the captured
/// arguments.
/// </summary>
public sealed unsafe class CudaGraph : IDisposable
{
    private readonly CudaDevice _device;
    private readonly CudaGraphHandle _graph;
    private readonly CudaGraphExecHandle _exec;

    private CudaGraph(CudaDevice device, CudaGraphHandle graph, CudaGraphExecHandle exec)
    {
        _device = device;
        _graph = graph;
        _exec = exec;
    }

    /// <summary>
    /// Runs <paramref name="enqueue"/> under stream capture (nothing executes) and instantiates the result.
    /// The body must only enqueue work on <see cref="CudaDevice.Stream"/>: no allocation, copy to pageable host
    /// memory or synchronisation (those fail the capture with cudaErrorStreamCaptureUnsupported).
    /// </summary>
    public static CudaGraph Capture(CudaDevice device, Action enqueue)
    {
        CudaException.Check(CudaRuntimeNative.StreamBeginCapture(device.Stream, CudaRuntimeNative.StreamCaptureModeThreadLocal),
            "cudaStreamBeginCapture");
        var graph = new CudaGraphHandle();
        var exec = new CudaGraphExecHandle();
        try
        {
            Exception? bodyFailure = null;
            try
            {
                enqueue();
            }
            catch (Exception ex)
            {
                bodyFailure = ex;
            }
            // End the capture even when the body failed, or the stream stays in capture mode and unusable.
            nint g = 0;
            int rc = CudaRuntimeNative.StreamEndCapture(device.Stream, &g);
            if (g != 0) graph.Set(g);
            if (bodyFailure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(bodyFailure);
            CudaException.Check(rc, "cudaStreamEndCapture");
            nint e = 0;
            CudaException.Check(CudaRuntimeNative.GraphInstantiateWithFlags(&e, graph.DangerousGetHandle(), 0), "cudaGraphInstantiateWithFlags");
            exec.Set(e);
            return new CudaGraph(device, graph, exec);
        }
        catch
        {
            exec.Dispose();
            graph.Dispose();
            throw;
        }
    }

    /// <summary>Enqueues one replay on the device's stream (asynchronous).</summary>
    public void Launch() => CudaException.Check(CudaRuntimeNative.GraphLaunch(_exec.DangerousGetHandle(), _device.Stream), "cudaGraphLaunch");

    public void Dispose()
    {
        _exec.Dispose();
        _graph.Dispose();
    }
}
