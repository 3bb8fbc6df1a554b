namespace VallE.Runtime.Cuda;

/// <summary>
/// Device memory a run needs, computed before any allocation so that a request that cannot fit fails at once with
/// a clear message instead of a cudaErrorMemoryAllocation half-way through generation.
/// </summary>
public sealed record CudaMemoryPlan(long WeightBytes, long KvCacheBytes, long ActivationBytes)
{
    /// <summary>
    /// Kept free beyond the plan: the CUDA context's own allocations after the probe, cuBLAS' workspace and
    /// allocator slack. Fixed rather than a fraction so that small GPUs are not over-reserved.
    /// </summary>
    public const long HeadroomBytes = 256L << 20;

    public long TotalBytes => WeightBytes + KvCacheBytes + ActivationBytes + HeadroomBytes;

    /// <summary>
    /// K and V caches of the AR decoder: 2 (K and V) x layers x batch x capacity x dim elements of the cache dtype.
    /// </summary>
    public static long KvCache(int layers, int batch, int capacity, int dim, CudaDType dtype) =>
        checked(2L * layers * batch * capacity * dim * ElementBytes(dtype));

    /// <summary>
    /// fp32 activations of one forward over <paramref name="rows"/> positions: the residual stream, the normalised
    /// input, fused q/k/v, attention output, the feed-forward hidden layer and the logits, plus the decode-attention
    /// partials. An upper bound for the engine's buffers (they are reused across layers).
    /// </summary>
    public static long Activations(int rows, int batch, int dim, int feedForward, int vocab, int heads, int kvCapacity)
    {
        long perRow = 4L * (dim /*x*/ + dim /*norm*/ + 3L * dim /*qkv*/ + dim /*attn*/ + dim /*proj*/ + feedForward + vocab);
        long partials = 4L * batch * heads * ((kvCapacity + ValleKernelsNative.DecodeChunk - 1) / ValleKernelsNative.DecodeChunk) * (dim / Math.Max(heads, 1) + 2);
        return checked(perRow * rows * batch + partials);
    }

    public static int ElementBytes(CudaDType dtype) => dtype == CudaDType.F32 ? 4 : 2;

    /// <summary>
    /// Throws <see cref="InvalidInputException"/> when <paramref name="freeBytes"/> cannot hold the plan;
    /// <paramref name="what"/> names the request ("generation of up to 3000 frames").
    /// </summary>
    public void EnsureFits(long freeBytes, string what)
    {
        if (TotalBytes <= freeBytes) return;
        throw new InvalidInputException(
            $"{what} needs about {Gib(TotalBytes)} GiB of GPU memory (weights {Gib(WeightBytes)}, KV cache {Gib(KvCacheBytes)}, " +
            $"activations {Gib(ActivationBytes)}, headroom {Gib(HeadroomBytes)}) but only {Gib(freeBytes)} GiB is free; " +
            "shorten the request, lower the batch size, use a 16-bit KV cache, or run on the CPU");
    }

    /// <summary>Checks the plan against the device's free memory now (cudaMemGetInfo).</summary>
    public void EnsureFits(CudaDevice device, string what) => EnsureFits(device.MemoryInfo().Free, what);

    private static string Gib(long bytes) => (bytes / (double)(1L << 30)).ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
}
