using System.Runtime.InteropServices;

namespace VallE.Runtime.Onnx;

/// <summary>
/// The one exported symbol of ONNX Runtime's C API, <c>OrtGetApiBase</c>, and the layout of the <c>OrtApi</c>
/// function table it leads to. Every other entry point is a function pointer read from that table at a fixed
/// index: the table only ever grows at its end, so the indices below (checked against onnxruntime_c_api.h) hold
/// for every release from 1.13 (ORT_API_VERSION 13, which we request) to today's.
/// </summary>
internal static unsafe partial class OrtNative
{
    /// <summary>Name only the resolver in <see cref="OrtLibrary"/> knows; it hands back the located library.</summary>
    public const string LibraryName = "valle-onnxruntime";

    /// <summary>API version requested from <c>OrtApiBase.GetApi</c>; libraries older than 1.13 answer null.</summary>
    public const uint ApiVersion = 13;

    [StructLayout(LayoutKind.Sequential)]
    public struct OrtApiBase
    {
        public delegate* unmanaged<uint, void**> GetApi;
        public delegate* unmanaged<byte*> GetVersionString;
    }

    [LibraryImport(LibraryName, EntryPoint = "OrtGetApiBase")]
    public static partial OrtApiBase* GetApiBase();

    // Indices into the OrtApi struct (0-based, one pointer each).
    public const int CreateStatus = 0;
    public const int GetErrorCode = 1;
    public const int GetErrorMessage = 2;
    public const int CreateEnv = 3;
    public const int CreateSession = 7;
    public const int Run = 9;
    public const int CreateSessionOptions = 10;
    public const int SetSessionGraphOptimizationLevel = 23;
    public const int SetIntraOpNumThreads = 24;
    public const int SetInterOpNumThreads = 25;
    public const int SessionGetInputCount = 30;
    public const int SessionGetOutputCount = 31;
    public const int SessionGetInputTypeInfo = 33;
    public const int SessionGetOutputTypeInfo = 34;
    public const int SessionGetInputName = 36;
    public const int SessionGetOutputName = 37;
    public const int CreateRunOptions = 39;
    public const int RunOptionsSetTerminate = 46;
    public const int CreateTensorWithDataAsOrtValue = 49;
    public const int IsTensor = 50;
    public const int GetTensorMutableData = 51;
    public const int CastTypeInfoToTensorInfo = 55;
    public const int GetOnnxTypeFromTypeInfo = 56;
    public const int GetTensorElementType = 60;
    public const int GetDimensionsCount = 61;
    public const int GetDimensions = 62;
    public const int GetTensorTypeAndShape = 65;
    public const int CreateCpuMemoryInfo = 69;
    public const int AllocatorFree = 76;
    public const int GetAllocatorWithDefaultOptions = 78;
    public const int ReleaseEnv = 92;
    public const int ReleaseStatus = 93;
    public const int ReleaseMemoryInfo = 94;
    public const int ReleaseSession = 95;
    public const int ReleaseValue = 96;
    public const int ReleaseRunOptions = 97;
    public const int ReleaseTypeInfo = 98;
    public const int ReleaseTensorTypeAndShapeInfo = 99;
    public const int ReleaseSessionOptions = 100;
    public const int GetAvailableProviders = 125;
    public const int ReleaseAvailableProviders = 126;
    public const int SessionOptionsAppendExecutionProvider_CUDA = 152;

    // Enum values from the header.
    public const int LoggingLevelError = 3;
    public const int GraphOptimizationAll = 99;
    public const int AllocatorArena = 1;
    public const int MemTypeDefault = 0;
    public const int OnnxTypeTensor = 1;

    /// <summary>OrtCUDAProviderOptions (v1) with the header's defaults; trailing zero padding leaves room for fields newer headers appended.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CudaProviderOptions
    {
        public int DeviceId;
        public int CudnnConvAlgoSearch;       // 0 = exhaustive (the header's default)
        public nuint GpuMemLimit;             // SIZE_MAX = no limit
        public int ArenaExtendStrategy;
        public int DoCopyInDefaultStream;     // 1 (default)
        public int HasUserComputeStream;
        public void* UserComputeStream;
        public void* DefaultMemoryArenaCfg;
        public fixed byte Reserved[64];
    }
}
