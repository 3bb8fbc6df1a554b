using System.Runtime.InteropServices;

namespace VallE.Runtime.Cuda;

// SafeHandles for every CUDA object the backend owns, so that a failure half-way through building a model still
// releases what was created (and finalisation never leaks device memory). Release never throws: a failed free at
// teardown has nothing better to do than report false.

/// <summary>A cudaMalloc'd device allocation.</summary>
public sealed class DeviceMemoryHandle() : SafeHandle(0, ownsHandle: true)
{
    public override bool IsInvalid => handle == 0;
    internal void Set(nint ptr) => SetHandle(ptr);
    protected override bool ReleaseHandle() => CudaRuntimeNative.Free(handle) == CudaRuntimeNative.Success;
}

/// <summary>A cudaStream_t created non-blocking (it does not synchronise with the legacy default stream).</summary>
public sealed class CudaStreamHandle() : SafeHandle(0, ownsHandle: true)
{
    public override bool IsInvalid => handle == 0;
    internal void Set(nint ptr) => SetHandle(ptr);
    protected override bool ReleaseHandle() => CudaRuntimeNative.StreamDestroy(handle) == CudaRuntimeNative.Success;
}

/// <summary>A cudaEvent_t.</summary>
public sealed class CudaEventHandle() : SafeHandle(0, ownsHandle: true)
{
    public override bool IsInvalid => handle == 0;
    internal void Set(nint ptr) => SetHandle(ptr);
    protected override bool ReleaseHandle() => CudaRuntimeNative.EventDestroy(handle) == CudaRuntimeNative.Success;
}

/// <summary>A captured cudaGraph_t (the template; an instantiated graph is a <see cref="CudaGraphExecHandle"/>).</summary>
public sealed class CudaGraphHandle() : SafeHandle(0, ownsHandle: true)
{
    public override bool IsInvalid => handle == 0;
    internal void Set(nint ptr) => SetHandle(ptr);
    protected override bool ReleaseHandle() => CudaRuntimeNative.GraphDestroy(handle) == CudaRuntimeNative.Success;
}

/// <summary>An instantiated cudaGraphExec_t, launched once per generated token.</summary>
public sealed class CudaGraphExecHandle() : SafeHandle(0, ownsHandle: true)
{
    public override bool IsInvalid => handle == 0;
    internal void Set(nint ptr) => SetHandle(ptr);
    protected override bool ReleaseHandle() => CudaRuntimeNative.GraphExecDestroy(handle) == CudaRuntimeNative.Success;
}

/// <summary>A cublasHandle_t.</summary>
public sealed class CublasHandle() : SafeHandle(0, ownsHandle: true)
{
    public override bool IsInvalid => handle == 0;
    internal void Set(nint ptr) => SetHandle(ptr);
    protected override bool ReleaseHandle() => CublasNative.Destroy(handle) == CublasNative.StatusSuccess;
}
