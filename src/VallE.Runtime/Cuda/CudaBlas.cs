namespace VallE.Runtime.Cuda;

/// <summary>Matmuls through cuBLAS on the device's stream (fp32 accumulation in every variant).</summary>
public static unsafe class CudaBlas
{
    /// <summary>
    /// nn.Linear without bias: <c>y[rows, outF] = x[rows, inF] · W[outF, inF]ᵀ</c>, all row-major fp32 (W exactly as
    /// PyTorch stores it). The bias is fused into the next kernel (add+LayerNorm, bias+ReLU).
    /// </summary>
    public static void LinearF32(CudaDevice d, nint x, nint w, nint y, int rows, int inFeatures, int outFeatures)
    {
        if (rows == 0) return;
        float alpha = 1f, beta = 0f;
        CudaException.CheckCublas(CublasNative.Sgemm(d.Cublas, CublasNative.OpT, CublasNative.OpN, outFeatures, rows, inFeatures,
            &alpha, w, inFeatures, x, inFeatures, &beta, y, outFeatures), "cublasSgemm");
    }

    /// <summary>
    /// The same product with 16-bit weights and activations (<paramref name="dtype"/> F16 or BF16; both operands
    /// and y of that type) and fp32 accumulation: halves the weight traffic that bounds a decode step.
    /// </summary>
    public static void Linear16(CudaDevice d, CudaDType dtype, nint x, nint w, nint y, int rows, int inFeatures, int outFeatures)
    {
        if (dtype == CudaDType.F32) throw new ArgumentException("use LinearF32 for fp32", nameof(dtype));
        if (rows == 0) return;
        int t = dtype == CudaDType.F16 ? CublasNative.DataR16F : CublasNative.DataR16BF;
        float alpha = 1f, beta = 0f;
        CudaException.CheckCublas(CublasNative.GemmEx(d.Cublas, CublasNative.OpT, CublasNative.OpN, outFeatures, rows, inFeatures,
            &alpha, w, t, inFeatures, x, t, inFeatures, &beta, y, t, outFeatures, CublasNative.Compute32F, CublasNative.GemmDefault),
            "cublasGemmEx");
    }
}
