using VallE.Runtime.Onnx;

namespace VallE.Runtime.Codec;

/// <summary>
/// EnCodec decoder through ONNX Runtime: int64 codes [T, 8] (frame-major) to 24 kHz mono samples. Any model with the
/// decoder contract runs here: EnCodec's decoder or Vocos (<see cref="Vocoder"/>, read from the model's metadata).
/// </summary>
public sealed class EncodecDecoder : IDisposable
{
    private readonly EncodecSession _session;
    private EncodecChunking _chunking = EncodecChunking.Default;

    public string ModelPath => _session.ModelPath;
    public string ExecutionProvider => _session.ExecutionProvider;

    /// <summary>
    /// The vocoder the model declares in its ONNX metadata (<c>valle.vocoder</c>, written by tools/export_vocos_onnx.py);
    /// null when it declares none (our EnCodec exports, models from elsewhere).
    /// </summary>
    public Vocoder? DeclaredVocoder { get; }

    /// <summary><see cref="DeclaredVocoder"/>, or EnCodec for a model that declares nothing.</summary>
    public Vocoder Vocoder => DeclaredVocoder ?? _expected ?? Vocoder.Encodec;

    private Vocoder? _expected;

    /// <summary>How inputs longer than one run are split (<see cref="EncodecChunking"/>); checked when set.</summary>
    public EncodecChunking Chunking
    {
        get => _chunking;
        set { value.Validate(); _chunking = value; }
    }

    /// <summary>Called after each window is decoded (tests use it to cancel between windows).</summary>
    internal Action<CodecChunk>? ChunkDone { get; set; }

    private EncodecDecoder(EncodecSession session)
    {
        _session = session;
        if (session.Metadata.TryGetValue(VocoderNames.MetadataKey, out string? declared))
            DeclaredVocoder = VocoderNames.Parse(declared);
    }

    /// <summary>
    /// Checks that the model is the vocoder the caller asked for (<c>--vocoder</c>): a model that declares another one
    /// is refused; one that declares nothing is taken at the caller's word.
    /// </summary>
    /// <exception cref="InvalidInputException">The model declares a different vocoder.</exception>
    public void Expect(Vocoder vocoder)
    {
        if (DeclaredVocoder is { } declared && declared != vocoder)
            throw new InvalidInputException(
                $"{ModelPath}: is a {declared.Name()} decoder, not {vocoder.Name()} (--vocoder {vocoder.Name()}); " +
                (vocoder == Vocoder.Vocos ? "export Vocos with tools/export_vocos_onnx.py" : "export EnCodec with tools/export_encodec_onnx.py"));
        _expected = vocoder;
    }

    public static EncodecDecoder Open(string modelPath, OnnxSessionOptions? options = null) =>
        new(EncodecSession.Open(modelPath, options, "decoder",
                "codes", OrtElementType.Int64, [-1, EncodecContract.Quantizers, -1], "audio", OrtElementType.Float32, [-1, 1, -1],
                " (is it the encoder? the decoder takes int64 codes [B, 8, T] and returns float32 audio [B, 1, 320 T])"));

    /// <summary>
    /// Decodes codes <c>[frames, 8]</c>; returns <c>320 * frames</c> samples at 24 kHz. Up to
    /// <see cref="EncodecChunking.ChunkFrames"/> frames this is one ONNX run; longer inputs are decoded window by
    /// window and joined with a crossfade at each seam, so memory does not grow with the length.
    /// Cancellation is checked between windows and stops a window in progress.
    /// </summary>
    /// <exception cref="InvalidInputException">No frames, not 8 codebooks, codes out of range, or the model produced NaN/Inf samples.</exception>
    public float[] Decode(AudioCodes codes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(codes);
        const int nq = EncodecContract.Quantizers;
        int frames = codes.Frames;
        if (frames <= 0) throw new InvalidInputException("cannot decode 0 frames of codes");
        if (codes.Codebooks != nq)
            throw new InvalidInputException($"codes have {codes.Codebooks} codebooks, expected {nq} ([frames, {nq}])");
        return DecodeChecked(codes.Span, frames, cancellationToken);
    }

    /// <summary>Decodes <paramref name="frames"/> frames of 8 codes, frame-major (shape checked by the caller).</summary>
    private float[] DecodeChecked(ReadOnlySpan<long> codes, int frames, CancellationToken cancellationToken)
    {
        const int nq = EncodecContract.Quantizers, hop = EncodecContract.HopLength;
        for (int i = 0; i < codes.Length; i++)
            if ((ulong)codes[i] >= EncodecContract.CodebookSize)
                throw new InvalidInputException($"code {codes[i]} at frame {i / nq}, codebook {i % nq} is outside 0..{EncodecContract.CodebookSize - 1}");

        var result = new float[(long)frames * hop];
        var plan = _chunking.Plan(frames);
        int half = _chunking.CrossfadeFrames / 2 * hop;
        float[] fadeIn = RaisedCosine(2 * half);
        for (int k = 0; k < plan.Count; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            CodecChunk chunk = plan[k];
            using var audio = DecodeWindow(codes, chunk, cancellationToken);
            ReadOnlySpan<float> window = audio.Span<float>();
            long offset = (long)chunk.WindowStart * hop;
            // This window writes its core and half a crossfade beyond each inner seam; the fade-in half blends
            // into what the previous window wrote there, the fade-out half is blended over by the next window.
            long from = k == 0 ? 0 : (long)chunk.Start * hop - half;
            long to = k == plan.Count - 1 ? result.Length : (long)chunk.End * hop + half;
            long fadeEnd = k == 0 ? 0 : from + 2 * half;
            for (long i = from; i < to; i++)
            {
                float x = window[(int)(i - offset)];
                // a + w (b - a) rather than (1 - w) a + w b: where both windows agree it gives exactly that value.
                result[i] = i < fadeEnd ? result[i] + fadeIn[i - from] * (x - result[i]) : x;
            }
            ChunkDone?.Invoke(chunk);
        }
        ThrowIfNotFinite(result);
        return result;
    }

    /// <summary>One ONNX run over the window's frames; the caller disposes the returned audio [1, 1, 320 W].</summary>
    private OnnxValue DecodeWindow(ReadOnlySpan<long> codes, CodecChunk chunk, CancellationToken cancellationToken)
    {
        const int nq = EncodecContract.Quantizers;
        int w = chunk.WindowFrames;
        var qt = new long[(long)w * nq];   // the model wants [1, 8, W]
        for (int t = 0; t < w; t++)
            for (int q = 0; q < nq; q++)
                qt[q * w + t] = codes[(chunk.WindowStart + t) * nq + q];
        using var input = OnnxValue.FromInt64(qt, 1, nq, w);
        var audio = _session.Run(input, cancellationToken);
        long[] expected = [1, 1, (long)w * EncodecContract.HopLength];
        if (!audio.Shape.SequenceEqual(expected))
        {
            audio.Dispose();
            throw new InvalidInputException($"{ModelPath}: decoder returned audio [{string.Join(", ", audio.Shape)}] for {w} frames, expected [{string.Join(", ", expected)}]");
        }
        return audio;
    }

    /// <summary>A model that emits NaN or infinity is broken: refuse its output rather than write silence or NaN.</summary>
    private void ThrowIfNotFinite(float[] audio)
    {
        long bad = 0;
        foreach (float x in audio) if (!float.IsFinite(x)) bad++;
        if (bad > 0)
            throw new InvalidInputException($"codec {ModelPath} produced {bad} non-finite (NaN/Inf) samples out of {audio.Length}; nothing written");
    }

    /// <summary>Weights rising smoothly from 0 to 1 over <paramref name="n"/> samples (sampled at their midpoints).</summary>
    private static float[] RaisedCosine(int n)
    {
        var w = new float[n];
        for (int i = 0; i < n; i++) w[i] = (float)(0.5 - 0.5 * Math.Cos(Math.PI * (i + 0.5) / n));
        return w;
    }

    public void Dispose() => _session.Dispose();
}
