using VallE.Runtime.Audio;
using VallE.Tests.Support;
using VallE.Weights.NumPy;

namespace VallE.Tests.Codec;

/// <summary><c>valle encode</c> / <c>valle decode</c> end to end with the random-weight EnCodec pair.</summary>
public class EncodeDecodeCommandTests
{
    [Test]
    public void EncodeWritesFrameMajorCodesEqualToPyTorch()
    {
        using var dir = TestPaths.CreateTempDir();
        float[] audio = Npy.Read(EncodecTestModels.Reference("audio_T23.npy")).ToFloat32();
        WavWriter.Write(dir.File("in.wav"), audio, 24000, WavOutputFormat.Float32);
        var r = CliRunner.Run("encode", dir.File("in.wav"), "--codec-encoder", EncodecTestModels.Encoder, "--out", dir.File("codes.npy"));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(r.Err, Does.Contain("to 23 frames x 8 codes"));
        NpyArray codes = Npy.Read(dir.File("codes.npy"));
        Assert.That(codes.Shape, Is.EqualTo(new long[] { 23, 8 }));
        Assert.That(codes.Type, Is.EqualTo(NpyType.Int64));
        long[] expected = Npy.Read(EncodecTestModels.Reference("codes_T23.npy")).ToInt64();
        long[] got = codes.ToInt64();
        for (int t = 0; t < 23; t++)
            for (int q = 0; q < 8; q++)
                Assert.That(got[t * 8 + q], Is.EqualTo(expected[q * 23 + t]), $"frame {t} codebook {q}");
    }

    [Test]
    public void EncodeResamplesAndDownmixesAnyWav()
    {
        using var dir = TestPaths.CreateTempDir();
        var stereo = new float[2 * 16000];
        for (int i = 0; i < 16000; i++) stereo[2 * i] = stereo[2 * i + 1] = 0.3f * MathF.Sin(i * 0.1f);
        var wav = new Audio.WavBuilder()
            .Chunk("LIST", new byte[5])
            .Chunk("fmt ", Audio.WavBuilder.Fmt(1, 2, 16000, 24, extensibleSubTag: 1))
            .Chunk("data", Audio.WavBuilder.Samples(stereo, 1, 24))
            .Build();
        File.WriteAllBytes(dir.File("in.wav"), wav);
        var r = CliRunner.Run("encode", dir.File("in.wav"), "--codec-encoder", EncodecTestModels.Encoder, "-o", dir.File("c.npy"));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(r.Err, Does.Contain("PCM 24-bit, 2 ch, 16000 Hz").And.Contain("75 frames"));
        Assert.That(Npy.Read(dir.File("c.npy")).Shape, Is.EqualTo(new long[] { 75, 8 }));
    }

    [TestCase("pcm16")]
    [TestCase("f32")]
    public void DecodeWritesA24kHzWavMatchingPyTorch(string format)
    {
        using var dir = TestPaths.CreateTempDir();
        long[] qt = Npy.Read(EncodecTestModels.Reference("codes_T7.npy")).ToInt64();
        var codes = new long[qt.Length];
        for (int q = 0; q < 8; q++)
            for (int t = 0; t < 7; t++) codes[t * 8 + q] = qt[q * 7 + t];
        Npy.Write(dir.File("c.npy"), NpyArray.FromInt64(codes, 7, 8));
        var r = CliRunner.Run("decode", dir.File("c.npy"), "--codec-decoder", EncodecTestModels.Decoder, "--out", dir.File("o.wav"), "--sample-format", format);
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        WavAudio wav = WavReader.Read(dir.File("o.wav"));
        Assert.That(wav.Format.SampleRate, Is.EqualTo(24000));
        Assert.That(wav.Format.Format, Is.EqualTo(format == "f32" ? WavSampleFormat.Float : WavSampleFormat.Pcm));
        float[] expected = Npy.Read(EncodecTestModels.Reference("decoded_T7.npy")).ToFloat32();
        float tolerance = format == "f32" ? 1e-4f : 1f / 32768 + 1e-4f;
        int clippedExpected = expected.Count(x => x is > 1f or < -1f);
        var inRange = wav.Samples.Zip(expected).Where(p => Math.Abs(p.Second) < 1f);
        Assert.That(inRange.Max(p => Math.Abs(p.First - p.Second)), Is.LessThan(tolerance));
        if (format == "pcm16" && clippedExpected > 0) Assert.That(r.Err, Does.Contain($"{clippedExpected} of 2240 samples"));
    }

    [Test]
    public void DecodeReportsClippingAndAcceptsBatchedInt32Codes()
    {
        using var dir = TestPaths.CreateTempDir();
        // Decode a constant code sequence; whatever the peak, the report matches what the file holds.
        var codes = Enumerable.Range(0, 3 * 8).Select(i => i * 37 % 1024).ToArray();
        var bytes = new byte[codes.Length * 4];
        Buffer.BlockCopy(codes, 0, bytes, 0, bytes.Length);
        Npy.Write(dir.File("c.npy"), new NpyArray(NpyType.Int32, [1, 3, 8], bytes));
        var r = CliRunner.Run("decode", dir.File("c.npy"), "--codec-decoder", EncodecTestModels.Decoder, "--out", dir.File("o.wav"));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(WavReader.Read(dir.File("o.wav")).Frames, Is.EqualTo(960));
    }

    [Test]
    public void ErrorsAreOneLineWithExitCodes()
    {
        using var dir = TestPaths.CreateTempDir();
        Npy.Write(dir.File("bad.npy"), NpyArray.FromInt64(new long[6], 2, 3));
        var r = CliRunner.Run("decode", dir.File("bad.npy"), "--codec-decoder", EncodecTestModels.Decoder, "--out", dir.File("o.wav"));
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        Assert.That(r.Err, Does.Contain("codes must be [T, 8]"));
        Assert.That(File.Exists(dir.File("o.wav")), Is.False);

        Npy.Write(dir.File("big.npy"), NpyArray.FromInt64(Enumerable.Repeat(5000L, 8).ToArray(), 1, 8));
        r = CliRunner.Run("decode", dir.File("big.npy"), "--codec-decoder", EncodecTestModels.Decoder, "--out", dir.File("o.wav"));
        Assert.That((r.ExitCode, r.Err), Is.EqualTo((3, "valle: error: code 5000 at frame 0, codebook 0 is outside 0..1023\n")));

        r = CliRunner.Run("decode", dir.File("big.npy"), "--codec-decoder", EncodecTestModels.Decoder, "--out", dir.File("o.wav"), "--sample-format", "mp3");
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());

        File.WriteAllBytes(dir.File("x.wav"), "RIFF\0\0\0\0WAVEfmt "u8.ToArray());
        r = CliRunner.Run("encode", dir.File("x.wav"), "--codec-encoder", EncodecTestModels.Encoder, "--out", dir.File("c.npy"));
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        Assert.That(r.Err, Does.StartWith($"valle: error: {dir.File("x.wav")}: "));

        r = CliRunner.Run("encode", dir.File("x.wav"), "--out", dir.File("c.npy"));
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
    }
}
