namespace VallE.Runtime.Cuda;

/// <summary>
/// Checked entry points to libvalle_kernels on a device's stream: each validates what the host can see cheaply,
/// enqueues the kernel and turns a launch error into a <see cref="CudaException"/> naming the kernel. Pointers
/// are device addresses (<see cref="CudaBuffer.Pointer"/>, <see cref="CudaBuffer.At{T}"/>); 0 stands for NULL
/// where valle_kernels.h allows it. Nothing here allocates or synchronises, so every call can be captured into a
/// CUDA graph. Semantics: see native/kernels/valle_kernels.h.
/// </summary>
public static unsafe class CudaKernels
{
    public static void BiasAct(CudaDevice d, CudaDType dtype, nint x, nint bias, nint y, int rows, int cols, bool relu) =>
        Check(ValleKernelsNative.BiasAct((int)dtype, x, bias, y, rows, cols, relu ? ValleKernelsNative.ActRelu : ValleKernelsNative.ActNone, d.Stream), "valle_bias_act");

    public static void Convert(CudaDevice d, CudaDType from, nint x, CudaDType to, nint y, long count) =>
        Check(ValleKernelsNative.Convert((int)from, x, (int)to, y, count, d.Stream), "valle_convert");

    public static void EmbedPositional(CudaDevice d, CudaDType tableDtype, nint table, int vocab, nint tokens, int count,
        int dim, float xScale, float alpha, bool positional, nint inverseFrequencies, int position0, nint devicePosition0,
        nint output, int outputStride) =>
        Check(ValleKernelsNative.EmbedPos((int)tableDtype, table, vocab, tokens, count, dim, xScale, alpha, positional ? 1 : 0,
            inverseFrequencies, position0, devicePosition0, output, outputStride, d.Stream), "valle_embed_pos");

    public static void EmbedSumPositional(CudaDevice d, CudaDType tableDtype, nint tablePointers, nint vocabs, int books,
        nint codes, int codeStride, int count, int dim, float xScale, float alpha, bool positional, nint inverseFrequencies,
        int position0, nint output, int outputStride) =>
        Check(ValleKernelsNative.EmbedSumPos((int)tableDtype, tablePointers, vocabs, books, codes, codeStride, count, dim,
            xScale, alpha, positional ? 1 : 0, inverseFrequencies, position0, output, outputStride, d.Stream), "valle_embed_sum_pos");

    /// <summary>
    /// <c>x[r] += alpha · pe(pos(r))</c> in place, <c>pos(r) = devicePositions ? devicePositions[r] : position0 + r</c>
    /// (valle_add_positions; the same angle and sin/cos as <see cref="EmbedPositional"/>).
    /// </summary>
    public static void AddPositions(CudaDevice d, nint x, int rows, int dim, int xStride, float alpha, nint inverseFrequencies,
        int position0, nint devicePositions) =>
        Check(ValleKernelsNative.AddPositions(x, rows, dim, xStride, alpha, inverseFrequencies, position0, devicePositions, d.Stream),
            "valle_add_positions");

    public static void AddLayerNorm(CudaDevice d, nint x, nint delta, nint deltaBias, nint gamma, nint beta,
        nint adaScale, nint adaShift, float eps, CudaDType yDtype, nint y, int rows, int dim) =>
        Check(ValleKernelsNative.AddLayerNorm(x, delta, deltaBias, gamma, beta, adaScale, adaShift, eps, (int)yDtype, y, rows, dim, d.Stream),
            "valle_add_layernorm");

    public static void AddResidual(CudaDevice d, nint x, nint delta, nint bias, int rows, int dim) =>
        Check(ValleKernelsNative.AddResidual(x, delta, bias, rows, dim, d.Stream), "valle_add_residual");

    /// <summary>HF LlamaRMSNorm in fp32, <c>y = w · (x · 1/sqrt(mean(x²) + eps))</c> per row (valle_rms_norm; y may be x).</summary>
    public static void RmsNorm(CudaDevice d, nint x, int xStride, nint weight, float eps, nint y, int yStride, int rows, int dim) =>
        Check(ValleKernelsNative.RmsNorm(x, xStride, weight, eps, y, yStride, rows, dim, d.Stream), "valle_rms_norm");

    /// <summary>
    /// Rotary embedding in place on the q and k blocks of packed q|k|v rows at the device positions
    /// <c>devicePositions[r · positionStride]</c> (valle_rope); <paramref name="inverseFrequencies"/>: a device table of
    /// <c>theta^(−2i/headDim)</c>, or 0 to compute it on the device.
    /// </summary>
    public static void Rope(CudaDevice d, nint qkv, int qkvStride, int rows, int dim, int heads, float theta, nint inverseFrequencies,
        nint devicePositions, int positionStride) =>
        Check(ValleKernelsNative.Rope(qkv, qkvStride, rows, dim, heads, theta, inverseFrequencies, devicePositions, positionStride, d.Stream),
            "valle_rope");

    /// <summary><c>y[r, i] = gelu(g[r, i]) · g[r, f + i]</c>, exact GELU (valle_gated_gelu).</summary>
    public static void GatedGelu(CudaDevice d, nint gateUp, int inStride, nint y, int yStride, int rows, int f) =>
        Check(ValleKernelsNative.GatedGelu(gateUp, inStride, y, yStride, rows, f, d.Stream), "valle_gated_gelu");

    /// <summary>Prefill / NAR attention; <paramref name="causal"/> selects the VALL-E mask with <paramref name="textLength"/>.</summary>
    public static void AttentionPrefill(CudaDevice d, CudaDType dtype, nint q, int qStride, long qBatchStride,
        nint k, nint v, int kvStride, long kvBatchStride, nint output, int outStride, long outBatchStride,
        int batch, int queries, int keys, int heads, int headDim, int queryPosition0, int textLength, bool causal, float scale) =>
        Check(ValleKernelsNative.AttentionPrefill((int)dtype, q, qStride, qBatchStride, k, v, kvStride, kvBatchStride,
            output, outStride, outBatchStride, batch, queries, keys, heads, headDim, queryPosition0, textLength, causal ? 1 : 0,
            scale, d.Stream), "valle_attention_prefill");

    /// <summary>Floats of scratch <see cref="AttentionDecode"/> needs for these sizes.</summary>
    public static long AttentionDecodePartialsFloats(int batch, int heads, int headDim, int kvCapacity) =>
        ValleKernelsNative.AttentionDecodePartialsFloats(batch, heads, headDim, kvCapacity);

    public static void AttentionDecode(CudaDevice d, CudaDType dtype, nint q, int qStride, CudaDType cacheDtype,
        nint kCache, nint vCache, int kvCapacity, int keys, nint deviceKeyLengths, nint output, int outStride,
        int batch, int heads, int headDim, float scale, nint partials) =>
        Check(ValleKernelsNative.AttentionDecode((int)dtype, q, qStride, (int)cacheDtype, kCache, vCache, kvCapacity, keys,
            deviceKeyLengths, output, outStride, batch, heads, headDim, scale, partials, d.Stream), "valle_attention_decode");

    public static void KvAppend(CudaDevice d, nint k, nint v, int srcStride, long srcBatchStride, CudaDType cacheDtype,
        nint kCache, nint vCache, int kvCapacity, int batch, int rows, int dim, int position0, nint devicePositions) =>
        Check(ValleKernelsNative.KvAppend(k, v, srcStride, srcBatchStride, (int)cacheDtype, kCache, vCache, kvCapacity, batch,
            rows, dim, position0, devicePositions, d.Stream), "valle_kv_append");

    public static void CounterAdd(CudaDevice d, nint counters, int count, int delta) =>
        Check(ValleKernelsNative.CounterAdd(counters, count, delta, d.Stream), "valle_counter_add");

    public static void ArgMax(CudaDevice d, CudaDType dtype, nint logits, int rows, int vocab, int stride, nint output) =>
        Check(ValleKernelsNative.ArgMax((int)dtype, logits, rows, vocab, stride, output, d.Stream), "valle_argmax");

    /// <summary>
    /// Samples one token per row on the device (see valle_sample in valle_kernels.h). <paramref name="history"/>
    /// ([rows, historyCapacity] int32), <paramref name="historyLengths"/> and <paramref name="rngCounters"/> ([rows]
    /// uint64) are device state the kernel advances; 0 disables them.
    /// </summary>
    public static void Sample(CudaDevice d, CudaDType dtype, nint logits, int rows, int vocab, int stride,
        Sampling.SamplingOptions options, ulong seed, nint history, int historyCapacity, nint historyLengths,
        nint rngCounters, nint outTokens, nint outArgMax)
    {
        if (vocab > ValleKernelsNative.SampleMaxVocab)
            throw new ArgumentOutOfRangeException(nameof(vocab), $"the device sampler handles vocabularies up to {ValleKernelsNative.SampleMaxVocab}");
        var p = new ValleSampleParams
        {
            Temperature = options.Temperature,
            TopK = options.TopK,
            TopP = options.TopP,
            MinP = options.MinP,
            RepetitionPenalty = options.RepetitionPenalty,
            RepetitionWindow = options.RepetitionWindow,
            Greedy = options.IsGreedy ? 1 : 0,
            HistoryCapacity = historyCapacity,
            Seed = seed,
        };
        Check(ValleKernelsNative.Sample((int)dtype, logits, rows, vocab, stride, &p, history, historyLengths, rngCounters,
            outTokens, outArgMax, d.Stream), "valle_sample");
    }

    /// <summary>The four Philox4x32-10 words valle_sample draws from (host computation, no device needed).</summary>
    public static (uint X, uint Y, uint Z, uint W) Philox(ulong key, uint c0, uint c1, uint c2, uint c3)
    {
        uint* o = stackalloc uint[4];
        ValleKernelsNative.Philox4x32x10(key, c0, c1, c2, c3, o);
        return (o[0], o[1], o[2], o[3]);
    }

    private static void Check(int rc, string kernel)
    {
        if (rc != 0) throw CudaException.FromRuntime(rc, kernel);
    }
}
