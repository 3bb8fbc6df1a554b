namespace VallE.Runtime.Cuda;

/// <summary>
/// A CUDA runtime, cuBLAS or kernel call failed. The message names the call and CUDA's own description.
/// Running out of device memory is exit 3 (the input is too large for this GPU); anything else is exit 1 (a bug
/// or a broken device).
/// </summary>
public sealed class CudaException : ValleException
{
    public int ErrorCode { get; }

    public CudaException(string message, int errorCode, int exitCode) : base(message, exitCode) => ErrorCode = errorCode;

    /// <summary>Throws when <paramref name="error"/> (a cudaError_t) is not cudaSuccess.</summary>
    public static void Check(int error, string call)
    {
        if (error == CudaRuntimeNative.Success) return;
        throw FromRuntime(error, call);
    }

    public static CudaException FromRuntime(int error, string call)
    {
        int exit = error == CudaRuntimeNative.ErrorMemoryAllocation ? ExitCodes.InvalidInput : ExitCodes.InternalError;
        string what = error == CudaRuntimeNative.ErrorMemoryAllocation ? "out of GPU memory in " : "";
        return new CudaException($"CUDA: {what}{call} failed: {CudaRuntimeNative.Describe(error)}", error, exit);
    }

    /// <summary>Throws when <paramref name="status"/> (a cublasStatus_t) is not CUBLAS_STATUS_SUCCESS.</summary>
    public static void CheckCublas(int status, string call)
    {
        if (status == CublasNative.StatusSuccess) return;
        const int allocFailed = 3; // CUBLAS_STATUS_ALLOC_FAILED
        int exit = status == allocFailed ? ExitCodes.InvalidInput : ExitCodes.InternalError;
        throw new CudaException($"cuBLAS: {call} failed: {CublasNative.Describe(status)}", status, exit);
    }
}
