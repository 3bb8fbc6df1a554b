using System.Runtime.InteropServices;

namespace VallE.Runtime.Cuda;

/// <summary>
/// The CUDA runtime entry points the backend uses, as source-generated P/Invokes with blittable signatures.
/// Only functions whose C signature is identical in CUDA 11.x, 12.x and 13.x are bound (e.g.
/// cudaGraphInstantiateWithFlags rather than cudaGraphInstantiate, whose signature changed in 12.0, and device
/// attributes rather than cudaGetDeviceProperties, whose struct layout changes between versions).
/// Call <see cref="CudaLibraries.TryLoad"/> first; every function returns a cudaError_t.
/// </summary>
internal static unsafe partial class CudaRuntimeNative
{
    private const string Lib = CudaLibraries.CudartName;

    // cudaError_t values the backend names.
    public const int Success = 0;
    public const int ErrorInvalidValue = 1;
    public const int ErrorMemoryAllocation = 2;
    public const int ErrorInsufficientDriver = 35;
    public const int ErrorNoDevice = 100;

    // cudaDeviceAttr.
    public const int AttrMultiProcessorCount = 16;
    public const int AttrComputeCapabilityMajor = 75;
    public const int AttrComputeCapabilityMinor = 76;

    // cudaMemcpyKind.
    public const int MemcpyHostToDevice = 1;
    public const int MemcpyDeviceToHost = 2;
    public const int MemcpyDeviceToDevice = 3;

    public const uint StreamNonBlocking = 1;
    public const uint EventDisableTiming = 2;
    public const int StreamCaptureModeThreadLocal = 1;

    [LibraryImport(Lib, EntryPoint = "cudaGetErrorString")]
    public static partial byte* GetErrorString(int error);

    [LibraryImport(Lib, EntryPoint = "cudaGetLastError")]
    public static partial int GetLastError();

    [LibraryImport(Lib, EntryPoint = "cudaDriverGetVersion")]
    public static partial int DriverGetVersion(int* version);

    [LibraryImport(Lib, EntryPoint = "cudaRuntimeGetVersion")]
    public static partial int RuntimeGetVersion(int* version);

    [LibraryImport(Lib, EntryPoint = "cudaGetDeviceCount")]
    public static partial int GetDeviceCount(int* count);

    [LibraryImport(Lib, EntryPoint = "cudaSetDevice")]
    public static partial int SetDevice(int device);

    [LibraryImport(Lib, EntryPoint = "cudaDeviceGetAttribute")]
    public static partial int DeviceGetAttribute(int* value, int attribute, int device);

    [LibraryImport(Lib, EntryPoint = "cudaMemGetInfo")]
    public static partial int MemGetInfo(nuint* free, nuint* total);

    [LibraryImport(Lib, EntryPoint = "cudaDeviceSynchronize")]
    public static partial int DeviceSynchronize();

    [LibraryImport(Lib, EntryPoint = "cudaMalloc")]
    public static partial int Malloc(nint* devPtr, nuint size);

    [LibraryImport(Lib, EntryPoint = "cudaFree")]
    public static partial int Free(nint devPtr);

    [LibraryImport(Lib, EntryPoint = "cudaMemcpy")]
    public static partial int Memcpy(nint dst, nint src, nuint count, int kind);

    [LibraryImport(Lib, EntryPoint = "cudaMemcpyAsync")]
    public static partial int MemcpyAsync(nint dst, nint src, nuint count, int kind, nint stream);

    [LibraryImport(Lib, EntryPoint = "cudaMemsetAsync")]
    public static partial int MemsetAsync(nint devPtr, int value, nuint count, nint stream);

    [LibraryImport(Lib, EntryPoint = "cudaStreamCreateWithFlags")]
    public static partial int StreamCreateWithFlags(nint* stream, uint flags);

    [LibraryImport(Lib, EntryPoint = "cudaStreamDestroy")]
    public static partial int StreamDestroy(nint stream);

    [LibraryImport(Lib, EntryPoint = "cudaStreamSynchronize")]
    public static partial int StreamSynchronize(nint stream);

    [LibraryImport(Lib, EntryPoint = "cudaEventCreateWithFlags")]
    public static partial int EventCreateWithFlags(nint* evt, uint flags);

    [LibraryImport(Lib, EntryPoint = "cudaEventDestroy")]
    public static partial int EventDestroy(nint evt);

    [LibraryImport(Lib, EntryPoint = "cudaEventRecord")]
    public static partial int EventRecord(nint evt, nint stream);

    [LibraryImport(Lib, EntryPoint = "cudaEventSynchronize")]
    public static partial int EventSynchronize(nint evt);

    [LibraryImport(Lib, EntryPoint = "cudaEventElapsedTime")]
    public static partial int EventElapsedTime(float* ms, nint start, nint end);

    [LibraryImport(Lib, EntryPoint = "cudaStreamBeginCapture")]
    public static partial int StreamBeginCapture(nint stream, int mode);

    [LibraryImport(Lib, EntryPoint = "cudaStreamEndCapture")]
    public static partial int StreamEndCapture(nint stream, nint* graph);

    [LibraryImport(Lib, EntryPoint = "cudaGraphInstantiateWithFlags")]
    public static partial int GraphInstantiateWithFlags(nint* graphExec, nint graph, ulong flags);

    [LibraryImport(Lib, EntryPoint = "cudaGraphLaunch")]
    public static partial int GraphLaunch(nint graphExec, nint stream);

    [LibraryImport(Lib, EntryPoint = "cudaGraphDestroy")]
    public static partial int GraphDestroy(nint graph);

    [LibraryImport(Lib, EntryPoint = "cudaGraphExecDestroy")]
    public static partial int GraphExecDestroy(nint graphExec);

    /// <summary>cudaGetErrorString as a managed string ("cudaErrorNoDevice: no CUDA-capable device is detected").</summary>
    public static string Describe(int error)
    {
        byte* s = GetErrorString(error);
        string text = s is null ? "unknown error" : Marshal.PtrToStringUTF8((nint)s) ?? "unknown error";
        return $"{text} (cudaError {error})";
    }
}
