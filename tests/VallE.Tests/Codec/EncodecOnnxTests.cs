using VallE.Runtime.Codec;
using VallE.Tests.Engine;
using VallE.Weights.NumPy;

namespace VallE.Tests.Codec;

/// <summary>
/// The exported EnCodec graphs, run through our ONNX Runtime binding, against PyTorch's outputs of the same
/// module at several lengths (including lengths below the reflect-pad size and ones other than the traced one).
/// </summary>
public class EncodecOnnxTests
{
    [TestCaseSource(typeof(EncodecTestModels), nameof(EncodecTestModels.ReferenceFrames))]
    public void EncoderMatchesPyTorchAtEveryLength(int frames)
    {
        float[] audio = Npy.Read(EncodecTestModels.Reference($"audio_T{frames}.npy")).ToFloat32();
        long[] expected = Npy.Read(EncodecTestModels.Reference($"codes_T{frames}.npy")).ToInt64();   // [1, 8, T]
        using var encoder = EncodecEncoder.Open(EncodecTestModels.Encoder);
        AudioCodes codes = encoder.Encode(audio);
        Assert.That(codes.Frames, Is.EqualTo(frames));
        int mismatches = 0;
        for (int f = 0; f < frames; f++)
            for (int q = 0; q < 8; q++)
                if (codes[f, q] != expected[q * frames + f]) mismatches++;
        // Exact in practice; one flip would mean a near-tie between two codewords, not a wrong graph.
        Assert.That(mismatches, Is.LessThanOrEqualTo(frames * 8 / 100), $"{mismatches} of {frames * 8} codes differ from PyTorch");
    }

    [TestCaseSource(typeof(EncodecTestModels), nameof(EncodecTestModels.ReferenceFrames))]
    public void DecoderMatchesPyTorchAtEveryLength(int frames)
    {
        long[] qt = Npy.Read(EncodecTestModels.Reference($"codes_T{frames}.npy")).ToInt64();
        float[] expected = Npy.Read(EncodecTestModels.Reference($"decoded_T{frames}.npy")).ToFloat32();
        var codes = new long[qt.Length];
        for (int q = 0; q < 8; q++)
            for (int f = 0; f < frames; f++) codes[f * 8 + q] = qt[q * frames + f];
        using var decoder = EncodecDecoder.Open(EncodecTestModels.Decoder);
        float[] audio = decoder.Decode(new AudioCodes(codes, frames));
        Assert.That(audio.Length, Is.EqualTo(frames * 320));
        float scale = expected.Max(Math.Abs);
        double maxDiff = audio.Zip(expected, (a, b) => Math.Abs(a - b)).Max();
        Assert.That(maxDiff, Is.LessThan(1e-4 * Math.Max(1, scale)), $"max |ORT - torch| = {maxDiff} (peak {scale})");
    }

    [Test]
    public void EncoderPadsToWholeFrames()
    {
        using var encoder = EncodecEncoder.Open(EncodecTestModels.Encoder);
        float[] audio = Npy.Read(EncodecTestModels.Reference("audio_T23.npy")).ToFloat32();
        AudioCodes full = encoder.Encode(audio);
        AudioCodes cut = encoder.Encode(audio.AsSpan(0, 20 * 320 + 1));
        Assert.That((full.Frames, cut.Frames), Is.EqualTo((23, 21)));
        // The encoder is causal except for the reflect padding at the start (frame 0 sees up to frame 6), so
        // frames well before the zero padding at the end do not change.
        CodeAssert.Equal(full.Slice(0, 10), cut.Slice(0, 10));
        Assert.Throws<InvalidInputException>(() => encoder.Encode([]));
    }

    [Test]
    public void ModelsSwappedOrCodesOutOfRangeAreClearErrors()
    {
        var e = Assert.Throws<InvalidInputException>(() => EncodecDecoder.Open(EncodecTestModels.Encoder));
        Assert.That(e!.Message, Does.Contain("not an EnCodec decoder").And.Contain("is it the encoder?"));
        e = Assert.Throws<InvalidInputException>(() => EncodecEncoder.Open(EncodecTestModels.Decoder));
        Assert.That(e!.Message, Does.Contain("not an EnCodec encoder").And.Contain("int64"));
        using var decoder = EncodecDecoder.Open(EncodecTestModels.Decoder);
        e = Assert.Throws<InvalidInputException>(() => decoder.Decode(new AudioCodes([0, 1, 2, 3, 4, 5, 6, 1024], 1)));
        Assert.That(e!.Message, Does.Contain("code 1024 at frame 0, codebook 7"));
        e = Assert.Throws<InvalidInputException>(() => decoder.Decode(new AudioCodes(new long[7], 1, 7)));
        Assert.That(e!.Message, Is.EqualTo("codes have 7 codebooks, expected 8 ([frames, 8])"));
        e = Assert.Throws<InvalidInputException>(() => decoder.Decode(new AudioCodes([], 0)));
        Assert.That(e!.Message, Is.EqualTo("cannot decode 0 frames of codes"));
    }
}
