using VallE.Runtime.Onnx;

namespace VallE.Runtime.Codec;

/// <summary>EnCodec decoder through ONNX Runtime: int64 codes [T, 8] (frame-major) to 24 kHz mono samples.</summary>
public sealed class EncodecDecoder : IDisposable
{
    private readonly EncodecSession _session;

    public string ModelPath => _session.ModelPath;
    public string ExecutionProvider => _session.ExecutionProvider;

    private EncodecDecoder(EncodecSession session) => _session = session;

    public static EncodecDecoder Open(string modelPath, OnnxSessionOptions? options = null) =>
        new(EncodecSession.Open(modelPath, options, "decoder",
                "codes", OrtElementType.Int64, [-1, EncodecContract.Quantizers, -1], "audio", OrtElementType.Float32, [-1, 1, -1],
                " (is it the encoder? the decoder takes int64 codes [B, 8, T] and returns float32 audio [B, 1, 320 T])"));

    /// <summary>Decodes codes laid out <c>[frames, 8]</c> row-major; returns <c>320 * frames</c> samples at 24 kHz.</summary>
    public float[] Decode(ReadOnlySpan<long> codes, int frames)
    {
        const int nq = EncodecContract.Quantizers;
        if (frames <= 0) throw new InvalidInputException("cannot decode 0 frames of codes");
        if (codes.Length != (long)frames * nq)
            throw new InvalidInputException($"codes hold {codes.Length} values, expected {frames} frames x {nq}");
        var qt = new long[codes.Length];   // the model wants [1, 8, T]
        for (int t = 0; t < frames; t++)
            for (int q = 0; q < nq; q++)
            {
                long c = codes[t * nq + q];
                if ((ulong)c >= EncodecContract.CodebookSize)
                    throw new InvalidInputException($"code {c} at frame {t}, codebook {q} is outside 0..{EncodecContract.CodebookSize - 1}");
                qt[q * frames + t] = c;
            }
        using var input = OnnxValue.FromInt64(qt, 1, nq, frames);
        using var audio = _session.Run(input);
        long[] expected = [1, 1, (long)frames * EncodecContract.HopLength];
        if (!audio.Shape.SequenceEqual(expected))
            throw new InvalidInputException($"{ModelPath}: decoder returned audio [{string.Join(", ", audio.Shape)}] for {frames} frames, expected [{string.Join(", ", expected)}]");
        return audio.ToArray<float>();
    }

    public void Dispose() => _session.Dispose();
}
