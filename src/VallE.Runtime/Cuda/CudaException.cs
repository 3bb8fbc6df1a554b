namespace VallE.Runtime.Cuda;

/// <summary>
/// A CUDA runtime, cuBLAS or kernel call failed. The message names the call and CUDA's own description.
/// <see cref="IsOutOfMemory"/> tells running out of device memory (the input is too large for this GPU) from any
/// other failure (a bug or a broken device).
/// </summary>
public sealed class CudaException : ValleException
{
    /// <summary>The cudaError_t or cublasStatus_t.</summary>
    public int ErrorCode { get; }
    /// <summary>The call failed for lack of device memory (cudaErrorMemoryAllocation, CUBLAS_STATUS_ALLOC_FAILED).</summary>
    public bool IsOutOfMemory { get; }

    public CudaException(string message, int errorCode, bool isOutOfMemory = false) : base(message)
    {
        ErrorCode = errorCode;
        IsOutOfMemory = isOutOfMemory;
    }

    /// <summary>Throws when <paramref name="error"/> (a cudaError_t) is not cudaSuccess.</summary>
    public static void Check(int error, string call)
    {
        if (error == CudaRuntimeNative.Success) return;
        throw FromRuntime(error, call);
    }

    public static CudaException FromRuntime(int error, string call)
    {
        bool oom = error == CudaRuntimeNative.ErrorMemoryAllocation;
        string what = oom ? "out of GPU memory in " : "";
        return new CudaException($"CUDA: {what}{call} failed: {CudaRuntimeNative.Describe(error)}", error, oom);
    }

    /// <summary>Throws when <paramref name="status"/> (a cublasStatus_t) is not CUBLAS_STATUS_SUCCESS.</summary>
    public static void CheckCublas(int status, string call)
    {
        if (status == CublasNative.StatusSuccess) return;
        const int allocFailed = 3; // CUBLAS_STATUS_ALLOC_FAILED
        throw new CudaException($"cuBLAS: {call} failed: {CublasNative.Describe(status)}", status, status == allocFailed);
    }
}
