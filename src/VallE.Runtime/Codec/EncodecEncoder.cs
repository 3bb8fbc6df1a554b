using VallE.Runtime.Onnx;

namespace VallE.Runtime.Codec;

/// <summary>EnCodec encoder through ONNX Runtime: 24 kHz mono samples to int64 codes [T, 8] (frame-major).</summary>
public sealed class EncodecEncoder : IDisposable
{
    private readonly EncodecSession _session;
    private EncodecChunking _chunking = EncodecChunking.Default;

    public string ModelPath => _session.ModelPath;
    public string ExecutionProvider => _session.ExecutionProvider;

    /// <summary>How inputs longer than one run are split (<see cref="EncodecChunking"/>; the crossfade is unused here).</summary>
    public EncodecChunking Chunking
    {
        get => _chunking;
        set { value.Validate(); _chunking = value; }
    }

    /// <summary>Called after each window is encoded (tests use it to cancel between windows).</summary>
    internal Action<CodecChunk>? ChunkDone { get; set; }

    private EncodecEncoder(EncodecSession session) => _session = session;

    public static EncodecEncoder Open(string modelPath, OnnxSessionOptions? options = null) =>
        new(EncodecSession.Open(modelPath, options, "encoder",
                "audio", OrtElementType.Float32, [-1, 1, -1], "codes", OrtElementType.Int64, [-1, EncodecContract.Quantizers, -1],
                " (is it the decoder? the encoder takes float32 audio [B, 1, N] and returns int64 codes [B, 8, N/320])"));

    /// <summary>
    /// Encodes 24 kHz mono audio. The audio is zero-padded at the end to a multiple of 320 samples, as the
    /// contract requires; the result has <c>ceil(n / 320)</c> frames of 8 codes. Up to
    /// <see cref="EncodecChunking.ChunkFrames"/> frames this is one ONNX run; longer audio is encoded window by
    /// window, each with context on both sides, keeping the codes of each window's core. Cancellation is checked
    /// between windows and stops a window in progress.
    /// </summary>
    /// <returns>int64 codes, <c>[frames, 8]</c> frame-major (the layout of <c>generate</c> and the fixtures).</returns>
    public AudioCodes Encode(ReadOnlySpan<float> audio, CancellationToken cancellationToken = default)
    {
        const int nq = EncodecContract.Quantizers, hop = EncodecContract.HopLength;
        if (audio.Length == 0) throw new InvalidInputException("cannot encode empty audio");
        int frames = EncodecContract.FramesFor(audio.Length);
        var result = new long[(long)frames * nq];
        foreach (CodecChunk chunk in _chunking.Plan(frames))
        {
            cancellationToken.ThrowIfCancellationRequested();
            int w = chunk.WindowFrames;
            // The window's samples, zero beyond the end of the audio (the padding to whole frames).
            var window = new float[(long)w * hop];
            long first = (long)chunk.WindowStart * hop;
            if (first < audio.Length)
                audio.Slice((int)first, (int)Math.Min(window.Length, audio.Length - first)).CopyTo(window);
            using var input = OnnxValue.FromFloat32(window, 1, 1, window.Length);
            using var codes = _session.Run(input, cancellationToken);
            long[] expected = [1, nq, w];
            if (!codes.Shape.SequenceEqual(expected))
                throw new InvalidInputException($"{ModelPath}: encoder returned codes [{string.Join(", ", codes.Shape)}] for {window.Length} samples, expected [{string.Join(", ", expected)}]");
            ReadOnlySpan<long> qt = codes.Span<long>();   // [8, W]
            for (int q = 0; q < nq; q++)
                for (int t = chunk.Start; t < chunk.End; t++)
                {
                    long c = qt[q * w + (t - chunk.WindowStart)];
                    if ((ulong)c >= EncodecContract.CodebookSize)
                        throw new InvalidInputException($"{ModelPath}: encoder returned code {c} (codebook {q}, frame {t}), outside 0..1023");
                    result[(long)t * nq + q] = c;
                }
            ChunkDone?.Invoke(chunk);
        }
        return new AudioCodes(result, frames, nq);
    }

    public void Dispose() => _session.Dispose();
}
