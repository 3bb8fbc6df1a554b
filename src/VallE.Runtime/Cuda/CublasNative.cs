using System.Runtime.InteropServices;

namespace VallE.Runtime.Cuda;

/// <summary>
/// cuBLAS v2 entry points (libcublas.so.11/12/13 export the same _v2 symbols). Matmuls are column-major: the
/// row-major <c>y[rows, out] = x[rows, in] · Wᵀ</c> of nn.Linear is <c>yᵀ = W · xᵀ</c>, i.e.
/// gemm(OP_T, OP_N, m = out, n = rows, k = in, A = W (lda = in), B = x (ldb = in), C = y (ldc = out)).
/// </summary>
internal static unsafe partial class CublasNative
{
    private const string Lib = CudaLibraries.CublasName;

    public const int StatusSuccess = 0;
    public const int OpN = 0;
    public const int OpT = 1;

    // cudaDataType_t.
    public const int DataR32F = 0;
    public const int DataR16F = 2;
    public const int DataR16BF = 14;

    // cublasComputeType_t (CUDA 11+).
    public const int Compute32F = 68;
    public const int Compute32FFastTF32 = 77;

    public const int GemmDefault = -1;          // cublasGemmAlgo_t CUBLAS_GEMM_DEFAULT
    public const int DefaultMath = 0;           // CUBLAS_DEFAULT_MATH
    public const int PedanticMath = 2;          // CUBLAS_PEDANTIC_MATH: no TF32 or reduced-precision shortcuts

    [LibraryImport(Lib, EntryPoint = "cublasCreate_v2")]
    public static partial int Create(nint* handle);

    [LibraryImport(Lib, EntryPoint = "cublasDestroy_v2")]
    public static partial int Destroy(nint handle);

    [LibraryImport(Lib, EntryPoint = "cublasSetStream_v2")]
    public static partial int SetStream(nint handle, nint stream);

    [LibraryImport(Lib, EntryPoint = "cublasSetMathMode")]
    public static partial int SetMathMode(nint handle, int mode);

    /// <summary>cuBLAS 11.2+: a fixed workspace so that gemms captured into a CUDA graph never allocate.</summary>
    [LibraryImport(Lib, EntryPoint = "cublasSetWorkspace_v2")]
    public static partial int SetWorkspace(nint handle, nint workspace, nuint bytes);

    [LibraryImport(Lib, EntryPoint = "cublasSgemm_v2")]
    public static partial int Sgemm(nint handle, int transA, int transB, int m, int n, int k, float* alpha,
        nint a, int lda, nint b, int ldb, float* beta, nint c, int ldc);

    [LibraryImport(Lib, EntryPoint = "cublasGemmEx")]
    public static partial int GemmEx(nint handle, int transA, int transB, int m, int n, int k, void* alpha,
        nint a, int aType, int lda, nint b, int bType, int ldb, void* beta, nint c, int cType, int ldc,
        int computeType, int algo);

    [LibraryImport(Lib, EntryPoint = "cublasGetStatusString")]
    public static partial byte* GetStatusString(int status);

    public static string Describe(int status)
    {
        if (!CudaLibraries.CublasHasExport("cublasGetStatusString")) return $"cuBLAS status {status}";
        byte* s = GetStatusString(status);
        return $"{(s is null ? "unknown" : Marshal.PtrToStringUTF8((nint)s))} (cuBLAS status {status})";
    }
}
