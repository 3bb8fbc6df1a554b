using VallE.Runtime.Backends;

namespace VallE.Runtime.Cuda;

/// <summary>
/// <see cref="IStepGraph"/> of <see cref="CudaComputeBackend"/>: the first <see cref="Run"/> of a version records the
/// body into a <see cref="CudaGraph"/> (stream capture: nothing executes while recording) and launches it; later runs of
/// that version only launch the recording. A new version drops the old recording and records again. While recording,
/// the backend refuses every call that would not just enqueue work (Read, Write, allocation, the host conv).
/// </summary>
internal sealed class CudaStepGraph(CudaComputeBackend backend) : IStepGraph
{
    private CudaGraph? _graph;
    private int _version;
    private bool _disposed;

    /// <summary>Whether a recording exists (tests).</summary>
    internal bool IsRecorded => _graph is not null;

    public void Run(int version, Action body)
    {
        ArgumentNullException.ThrowIfNull(body);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_graph is null || version != _version)
        {
            _graph?.Dispose();
            _graph = null;
            _graph = backend.Record(body);
            _version = version;
        }
        _graph.Launch();
    }

    public void Dispose()
    {
        _disposed = true;
        _graph?.Dispose();
        _graph = null;
    }
}
