using VallE.Runtime.Audio;
using VallE.Tests.Support;

namespace VallE.Tests.Audio;

public class WavReaderTests
{
    private static readonly float[] Ramp = [0f, 0.5f, -0.5f, 0.25f, -1f, 0.99f];

    [TestCase((ushort)1, 8, 2 / 128.0)]
    [TestCase((ushort)1, 16, 2 / 32768.0)]
    [TestCase((ushort)1, 24, 2 / 8388608.0)]
    [TestCase((ushort)1, 32, 1e-7)]
    [TestCase((ushort)3, 32, 0.0)]
    [TestCase((ushort)3, 64, 1e-7)]
    public void EveryPcmAndFloatSizeDecodesToUnitRange(ushort tag, int bits, double tolerance)
    {
        byte[] file = new WavBuilder()
            .Chunk("fmt ", WavBuilder.Fmt(tag, 1, 16000, bits))
            .Chunk("data", WavBuilder.Samples(Ramp, tag, bits))
            .Build();
        WavAudio audio = WavReader.Parse(file);
        Assert.That(audio.Format, Is.EqualTo(new WavFormat(tag == 1 ? WavSampleFormat.Pcm : WavSampleFormat.Float, bits, 1, 16000)));
        Assert.That(audio.Samples, Is.EqualTo(Ramp).Within(tolerance + 1e-7));
    }

    [TestCase((ushort)1, 24)]
    [TestCase((ushort)3, 32)]
    public void ExtensibleFormatUsesItsSubFormat(ushort sub, int bits)
    {
        float[] stereo = [0.5f, -0.5f, 0.25f, 0.75f];
        byte[] file = new WavBuilder()
            .Chunk("fmt ", WavBuilder.Fmt(0, 2, 48000, bits, extensibleSubTag: sub))
            .Chunk("data", WavBuilder.Samples(stereo, sub, bits))
            .Build();
        WavAudio audio = WavReader.Parse(file);
        Assert.That(audio.Format.Channels, Is.EqualTo(2));
        Assert.That(audio.Frames, Is.EqualTo(2));
        Assert.That(audio.DownmixToMono(), Is.EqualTo(new[] { 0f, 0.5f }).Within(1e-6));
    }

    [Test]
    public void ListBeforeFmtAndOddSizedChunksWithPadBytesAreSkipped()
    {
        byte[] file = new WavBuilder()
            .Chunk("LIST", "INFOISFT\u0005\0\0\0Lavf\0"u8.ToArray())          // 17 bytes: odd, padded
            .Chunk("junk", new byte[3])                                     // odd again
            .Chunk("fmt ", WavBuilder.Fmt(1, 1, 22050, 16))
            .Chunk("fact", new byte[4])
            .Chunk("data", WavBuilder.Samples(Ramp, 1, 16))
            .Chunk("id3 ", new byte[5])
            .Build();
        WavAudio audio = WavReader.Parse(file);
        Assert.That(audio.Format.SampleRate, Is.EqualTo(22050));
        Assert.That(audio.Samples, Is.EqualTo(Ramp).Within(1e-4));
    }

    [TestCase(0u)]
    [TestCase(0xFFFFFFFFu)]
    public void StreamingDataSizeRunsToTheEndOfTheFile(uint size)
    {
        byte[] data = WavBuilder.Samples(Ramp, 1, 16);
        byte[] file = new WavBuilder()
            .Chunk("fmt ", WavBuilder.Fmt(1, 1, 24000, 16))
            .Chunk("data", [.. data, 0x12], sizeOverride: size)   // a half frame at the end is dropped
            .Build();
        Assert.That(WavReader.Parse(file).Samples, Is.EqualTo(Ramp).Within(1e-4));
    }

    [TestCase("truncated", "truncated: data chunk declares 1000 bytes")]
    [TestCase("nofmt", "data chunk comes before the fmt chunk")]
    [TestCase("nodata", "no data chunk")]
    [TestCase("mp3", "unsupported WAV encoding 0x0055")]
    [TestCase("bits", "unsupported Pcm sample size 12 bits")]
    [TestCase("align", "block align")]
    [TestCase("notriff", "not a WAV file (no RIFF header)")]
    [TestCase("short", "not a WAV file (shorter than a RIFF header)")]
    [TestCase("chunk", "truncated: chunk 'LIST' declares 4096 bytes")]
    [TestCase("partial", "not whole 4-byte frames")]
    public void BadFilesAreInvalidInputWithAReason(string kind, string message)
    {
        byte[] fmt = WavBuilder.Fmt(1, 1, 24000, 16);
        byte[] data = WavBuilder.Samples(Ramp, 1, 16);
        byte[] file = kind switch
        {
            "truncated" => new WavBuilder().Chunk("fmt ", fmt).Chunk("data", data, sizeOverride: 1000).Build(),
            "nofmt" => new WavBuilder().Chunk("data", data).Chunk("fmt ", fmt).Build(),
            "nodata" => new WavBuilder().Chunk("fmt ", fmt).Build(),
            "mp3" => new WavBuilder().Chunk("fmt ", WavBuilder.Fmt(0x55, 1, 24000, 16)).Chunk("data", data).Build(),
            "bits" => new WavBuilder().Chunk("fmt ", WavBuilder.Fmt(1, 1, 24000, 12)).Chunk("data", data).Build(),
            "align" => Patch(new WavBuilder().Chunk("fmt ", fmt).Chunk("data", data).Build(), 32, 3),
            "notriff" => "RIFX\0\0\0\0WAVEfmt "u8.ToArray(),
            "short" => "RIFF"u8.ToArray(),
            "chunk" => new WavBuilder().Chunk("fmt ", fmt).Chunk("LIST", new byte[8], sizeOverride: 4096).Build(),
            _ => new WavBuilder().Chunk("fmt ", WavBuilder.Fmt(1, 2, 24000, 16)).Chunk("data", data[..^2]).Build(),
        };
        var e = Assert.Throws<InvalidInputException>(() => WavReader.Parse(file));
        Assert.That(e!.Message, Does.Contain(message));
    }

    [Test]
    public void FileErrorsNameThePath()
    {
        using var dir = TestPaths.CreateTempDir();
        string path = dir.File("cut.wav");
        File.WriteAllBytes(path, new WavBuilder().Chunk("fmt ", WavBuilder.Fmt(1, 1, 24000, 16)).Build()[..30]);
        var e = Assert.Throws<InvalidInputException>(() => WavReader.Read(path));
        Assert.That(e!.Message, Does.StartWith(path + ": "));
        Assert.That(Assert.Throws<InvalidInputException>(() => WavReader.Read(dir.File("missing.wav")))!.Message, Does.Contain("file not found"));
    }

    [Test]
    public void RealLibriTtsPromptsRead()
    {
        string dir = TestPaths.RequireShared("audio");
        foreach (string wav in Directory.GetFiles(dir, "*.wav"))
        {
            WavAudio audio = WavReader.Read(wav);
            Assert.That(audio.Format, Is.EqualTo(new WavFormat(WavSampleFormat.Pcm, 16, 1, 24000)), wav);
            Assert.That(audio.DurationSeconds, Is.InRange(1.0, 30.0), wav);
            Assert.That(audio.Samples.Max(Math.Abs), Is.InRange(0.05f, 1f), wav);
        }
    }

    [Test]
    public void WriterRoundTripsAndCountsClipping()
    {
        using var dir = TestPaths.CreateTempDir();
        float[] s = [0f, 0.5f, -0.5f, 1.5f, -2f, float.NaN, 1f, -1f];
        long clipped = WavWriter.Write(dir.File("a.wav"), s, 24000, WavOutputFormat.Pcm16);
        Assert.That(clipped, Is.EqualTo(3));
        WavAudio back = WavReader.Read(dir.File("a.wav"));
        Assert.That(back.Format, Is.EqualTo(new WavFormat(WavSampleFormat.Pcm, 16, 1, 24000)));
        Assert.That(back.Samples, Is.EqualTo(new[] { 0f, 0.5f, -0.5f, 32767 / 32768f, -1f, 0f, 32767 / 32768f, -1f }).Within(1e-6));

        float[] f = [0.1f, -3f, 7.25f];
        Assert.That(WavWriter.Write(dir.File("f.wav"), f, 16000, WavOutputFormat.Float32), Is.Zero);
        WavAudio fb = WavReader.Read(dir.File("f.wav"));
        Assert.That(fb.Format, Is.EqualTo(new WavFormat(WavSampleFormat.Float, 32, 1, 16000)));
        Assert.That(fb.Samples, Is.EqualTo(f));
    }

    private static byte[] Patch(byte[] file, int offset, byte value)
    {
        file[offset] = value;
        return file;
    }
}
