using VallE.Runtime.Onnx;

namespace VallE.Runtime.Codec;

/// <summary>EnCodec encoder through ONNX Runtime: 24 kHz mono samples to int64 codes [T, 8] (frame-major).</summary>
public sealed class EncodecEncoder : IDisposable
{
    private readonly EncodecSession _session;

    public string ModelPath => _session.ModelPath;
    public string ExecutionProvider => _session.ExecutionProvider;

    private EncodecEncoder(EncodecSession session) => _session = session;

    public static EncodecEncoder Open(string modelPath, OnnxSessionOptions? options = null) =>
        new(EncodecSession.Open(modelPath, options, "encoder",
                "audio", OrtElementType.Float32, [-1, 1, -1], "codes", OrtElementType.Int64, [-1, EncodecContract.Quantizers, -1],
                " (is it the decoder? the encoder takes float32 audio [B, 1, N] and returns int64 codes [B, 8, N/320])"));

    /// <summary>
    /// Encodes 24 kHz mono audio. The audio is zero-padded at the end to a multiple of 320 samples, as the
    /// contract requires; the result has <c>ceil(n / 320)</c> frames of 8 codes.
    /// </summary>
    /// <returns>int64 codes, <c>[frames, 8]</c> row-major (the layout of <c>generate</c> and the fixtures).</returns>
    public long[] Encode(ReadOnlySpan<float> audio, out int frames)
    {
        if (audio.Length == 0) throw new InvalidInputException("cannot encode empty audio");
        frames = EncodecContract.FramesFor(audio.Length);
        var padded = new float[(long)frames * EncodecContract.HopLength];
        audio.CopyTo(padded);
        using var input = OnnxValue.FromFloat32(padded, 1, 1, padded.Length);
        using var codes = _session.Run(input);
        long[] expected = [1, EncodecContract.Quantizers, frames];
        if (!codes.Shape.SequenceEqual(expected))
            throw new InvalidInputException($"{ModelPath}: encoder returned codes [{string.Join(", ", codes.Shape)}] for {padded.Length} samples, expected [{string.Join(", ", expected)}]");
        ReadOnlySpan<long> qt = codes.Span<long>();   // [8, T]
        var result = new long[(long)frames * EncodecContract.Quantizers];
        for (int q = 0; q < EncodecContract.Quantizers; q++)
            for (int t = 0; t < frames; t++)
            {
                long c = qt[q * frames + t];
                if ((ulong)c >= EncodecContract.CodebookSize)
                    throw new InvalidInputException($"{ModelPath}: encoder returned code {c} (codebook {q}, frame {t}), outside 0..1023");
                result[t * EncodecContract.Quantizers + q] = c;
            }
        return result;
    }

    public void Dispose() => _session.Dispose();
}
