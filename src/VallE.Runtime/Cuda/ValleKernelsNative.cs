using System.Runtime.InteropServices;

namespace VallE.Runtime.Cuda;

/// <summary>Storage type codes of native/kernels/valle_kernels.h (VALLE_DTYPE_*); arithmetic is always fp32.</summary>
public enum CudaDType
{
    F32 = 0,
    F16 = 1,
    BF16 = 2,
}

/// <summary>valle_sample_params of valle_kernels.h (same field order and natural alignment: 40 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ValleSampleParams
{
    public float Temperature;
    public int TopK;
    public float TopP;
    public float MinP;
    public float RepetitionPenalty;
    public int RepetitionWindow;
    public int Greedy;
    public int HistoryCapacity;
    public ulong Seed;
}

/// <summary>
/// The C ABI of libvalle_kernels (native/kernels/valle_kernels.h, ABI <see cref="AbiVersion"/>). Device pointers
/// and streams are <c>nint</c>; every launcher returns a cudaError_t (0 = success) and only enqueues work.
/// Keep in step with the header: <see cref="CudaDevice"/> refuses a library whose ABI version differs.
/// </summary>
internal static unsafe partial class ValleKernelsNative
{
    private const string Lib = CudaLibraries.KernelsName;

    public const int AbiVersion = 5;
    public const int ActNone = 0;
    public const int ActRelu = 1;
    public const int DecodeChunk = 256;
    public const int SampleMaxVocab = 4096;

    [LibraryImport(Lib, EntryPoint = "valle_kernels_abi_version")]
    public static partial int AbiVersionOfLibrary();

    [LibraryImport(Lib, EntryPoint = "valle_set_device")]
    public static partial int SetDevice(int device);

    [LibraryImport(Lib, EntryPoint = "valle_bias_act")]
    public static partial int BiasAct(int dtype, nint x, nint bias, nint y, int rows, int cols, int act, nint stream);

    [LibraryImport(Lib, EntryPoint = "valle_convert")]
    public static partial int Convert(int srcDtype, nint x, int dstDtype, nint y, long n, nint stream);

    [LibraryImport(Lib, EntryPoint = "valle_embed_pos")]
    public static partial int EmbedPos(int tableDtype, nint table, int vocab, nint tokens, int nTokens, int dim,
        float xScale, float alpha, int usePe, nint invFreq, int pos0, nint dPos0, nint output, int outStride, nint stream);

    [LibraryImport(Lib, EntryPoint = "valle_embed_sum_pos")]
    public static partial int EmbedSumPos(int tableDtype, nint tables, nint vocabs, int nBooks, nint codes, int codeStride,
        int nTokens, int dim, float xScale, float alpha, int usePe, nint invFreq, int pos0, nint output, int outStride,
        nint stream);

    [LibraryImport(Lib, EntryPoint = "valle_add_positions")]
    public static partial int AddPositions(nint x, int rows, int dim, int xStride, float alpha, nint invFreq, int pos0,
        nint dPositions, nint stream);

    [LibraryImport(Lib, EntryPoint = "valle_add_layernorm")]
    public static partial int AddLayerNorm(nint x, nint delta, nint deltaBias, nint gamma, nint beta, nint adaScale,
        nint adaShift, float eps, int yDtype, nint y, int rows, int dim, nint stream);

    [LibraryImport(Lib, EntryPoint = "valle_add_residual")]
    public static partial int AddResidual(nint x, nint delta, nint bias, int rows, int dim, nint stream);

    [LibraryImport(Lib, EntryPoint = "valle_rms_norm")]
    public static partial int RmsNorm(nint x, int xStride, nint weight, float eps, nint y, int yStride, int rows, int dim, nint stream);

    [LibraryImport(Lib, EntryPoint = "valle_rope")]
    public static partial int Rope(nint qkv, int qkvStride, int rows, int dim, int heads, float theta, nint invFreq, nint dPositions,
        int positionStride, nint stream);

    [LibraryImport(Lib, EntryPoint = "valle_gated_gelu")]
    public static partial int GatedGelu(nint gateUp, int inStride, nint y, int yStride, int rows, int f, nint stream);

    [LibraryImport(Lib, EntryPoint = "valle_attention_prefill")]
    public static partial int AttentionPrefill(int dtype, nint q, int qStride, long qBatchStride, nint k, nint v,
        int kvStride, long kvBatchStride, nint output, int outStride, long outBatchStride, int batch, int nQ, int nKv,
        int nHeads, int headDim, int qPos0, int nText, int causal, float scale, nint stream);

    [LibraryImport(Lib, EntryPoint = "valle_attention_decode_partials_floats")]
    public static partial long AttentionDecodePartialsFloats(int batch, int nHeads, int headDim, int kvCapacity);

    [LibraryImport(Lib, EntryPoint = "valle_attention_decode")]
    public static partial int AttentionDecode(int dtype, nint q, int qStride, int cacheDtype, nint kCache, nint vCache,
        int kvCapacity, int nKv, nint dKvLen, nint output, int outStride, int batch, int nHeads, int headDim, float scale,
        nint partials, nint stream);

    [LibraryImport(Lib, EntryPoint = "valle_kv_append")]
    public static partial int KvAppend(nint k, nint v, int srcStride, long srcBatchStride, int cacheDtype, nint kCache,
        nint vCache, int kvCapacity, int batch, int nNew, int dim, int pos0, nint dPos, nint stream);

    [LibraryImport(Lib, EntryPoint = "valle_counter_add")]
    public static partial int CounterAdd(nint dCounter, int n, int delta, nint stream);

    [LibraryImport(Lib, EntryPoint = "valle_argmax")]
    public static partial int ArgMax(int dtype, nint logits, int rows, int vocab, int logitStride, nint output, nint stream);

    [LibraryImport(Lib, EntryPoint = "valle_sample")]
    public static partial int Sample(int dtype, nint logits, int rows, int vocab, int logitStride, ValleSampleParams* p,
        nint history, nint historyLength, nint rngCounter, nint outToken, nint outArgMax, nint stream);

    [LibraryImport(Lib, EntryPoint = "valle_philox4x32_10")]
    public static partial void Philox4x32x10(ulong key, uint c0, uint c1, uint c2, uint c3, uint* output);
}
