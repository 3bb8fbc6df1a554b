using VallE.Runtime.Codec;
using VallE.Tests.Support;
using VallE.Weights.NumPy;

namespace VallE.Tests.Codec;

/// <summary>A decoder that outputs NaN/Inf is refused with a count; no WAV is written, whatever the sample format.</summary>
public class NonFiniteDecodeTests
{
    /// <summary>10 frames, of which frames 2 and 7 start with a code below 512 (NaN in the test model).</summary>
    private static long[] Flat()
    {
        var codes = new long[10 * 8];
        for (int i = 0; i < codes.Length; i++) codes[i] = 600 + i;
        codes[2 * 8] = 3;
        codes[7 * 8] = 100;
        return codes;
    }

    private static AudioCodes Codes() => new(Flat(), 10);

    [Test]
    public void DecoderRefusesNonFiniteOutputWithACount()
    {
        using var decoder = EncodecDecoder.Open(TinyOnnxModels.NanDecoder);
        var e = Assert.Throws<InvalidInputException>(() => decoder.Decode(Codes()));
        Assert.That(e!.Message, Is.EqualTo($"codec {TinyOnnxModels.NanDecoder} produced 640 non-finite (NaN/Inf) samples out of 3200; nothing written"));

        // Chunked, the count covers every window.
        decoder.Chunking = new EncodecChunking { ChunkFrames = 6, ContextFrames = 1, CrossfadeFrames = 0 };
        e = Assert.Throws<InvalidInputException>(() => decoder.Decode(Codes()));
        Assert.That(e!.Message, Does.Contain("produced 640 non-finite"));

        long[] finite = Flat();
        finite[2 * 8] = finite[7 * 8] = 512;
        Assert.That(decoder.Decode(new AudioCodes(finite, 10)).All(float.IsFinite));
    }

    [TestCase("pcm16")]
    [TestCase("f32")]
    public void DecodeCommandExitsThreeAndWritesNothing(string format)
    {
        using var dir = TestPaths.CreateTempDir();
        Npy.Write(dir.File("c.npy"), NpyArray.FromInt64(Flat(), 10, 8));
        var r = CliRunner.Run("decode", dir.File("c.npy"), "--codec-decoder", TinyOnnxModels.NanDecoder, "--out", dir.File("o.wav"), "--sample-format", format);
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        Assert.That(r.Err, Is.EqualTo($"valle: error: codec {TinyOnnxModels.NanDecoder} produced 640 non-finite (NaN/Inf) samples out of 3200; nothing written\n"));
        Assert.That(Directory.GetFiles(dir.Path), Is.EqualTo(new[] { dir.File("c.npy") }), "no output (or temporary) file");
    }
}
