using VallE.Cli;
using VallE.Runtime.Audio;
using VallE.Tests.Support;

namespace VallE.Tests.Audio;

/// <summary>
/// WAV headers that would make a small file expensive: absurd sample rates, data sizes past the end of the file,
/// prompts longer than the limit. All are refused from the header, before samples are read or resampled.
/// </summary>
public class WavLimitsTests
{
    private static byte[] Wav(int rate, byte[] data, ushort tag = 1, int bits = 16, uint? dataSize = null) =>
        new WavBuilder().Chunk("fmt ", WavBuilder.Fmt(tag, 1, rate, bits)).Chunk("data", data, dataSize).Build();

    [TestCase(1)]
    [TestCase(7999)]
    [TestCase(384001)]
    [TestCase(0)]
    public void SampleRatesOutsideTheSupportedRangeAreRefused(int rate)
    {
        // 444 bytes at 1 Hz would be 200 s of audio, 2.65 GB once resampled to 24 kHz.
        byte[] file = Wav(rate, new byte[400]);
        var e = Assert.Throws<InvalidInputException>(() => WavReader.Parse(file));
        Assert.That(e!.Message, Is.EqualTo($"sample rate {rate} Hz is outside 8000..384000 Hz"));
    }

    [TestCase(8000)]
    [TestCase(384000)]
    public void TheEdgesOfTheRangeAreRead(int rate) =>
        Assert.That(WavReader.Parse(Wav(rate, new byte[400])).Format.SampleRate, Is.EqualTo(rate));

    [Test]
    public void OneHertzFileThroughThePromptLoaderNamesThePath()
    {
        using var dir = TestPaths.CreateTempDir();
        File.WriteAllBytes(dir.File("slow.wav"), Wav(1, new byte[400]));
        Assert.That(new FileInfo(dir.File("slow.wav")).Length, Is.EqualTo(444));
        var e = Assert.Throws<InvalidInputException>(() => PromptAudio.LoadMono(dir.File("slow.wav"), 24000, out _));
        Assert.That(e!.Message, Is.EqualTo($"{dir.File("slow.wav")}: sample rate 1 Hz is outside 8000..384000 Hz"));
    }

    [Test]
    public void DataSizeLargerThanTheFileIsRefusedBeforeAllocating()
    {
        using var dir = TestPaths.CreateTempDir();
        // 100 bytes of samples claiming 2 GB.
        File.WriteAllBytes(dir.File("liar.wav"), Wav(24000, new byte[100], dataSize: 0x7FFFFFF0));
        var e = Assert.Throws<InvalidInputException>(() => WavReader.Read(dir.File("liar.wav")));
        Assert.That(e!.Message, Does.StartWith(dir.File("liar.wav") + ": truncated: data chunk declares 2147483632 bytes, the file holds 100"));
        Assert.Throws<InvalidInputException>(() => WavReader.ReadHeader(dir.File("liar.wav")));
    }

    [Test]
    public void HeaderGivesTheDurationWithoutReadingSamples()
    {
        using var dir = TestPaths.CreateTempDir();
        // Streaming size and half a frame at the end: the header counts whole frames only.
        File.WriteAllBytes(dir.File("s.wav"), Wav(16000, new byte[32001], dataSize: 0));
        WavHeader h = WavReader.ReadHeader(dir.File("s.wav"));
        Assert.That(h.Format, Is.EqualTo(new WavFormat(WavSampleFormat.Pcm, 16, 1, 16000)));
        Assert.That(h.DataOffset, Is.EqualTo(44));
        Assert.That(h.DataLength, Is.EqualTo(32000));
        Assert.That(h.Frames, Is.EqualTo(16000));
        Assert.That(h.DurationSeconds, Is.EqualTo(1.0));
    }

    [Test]
    public void PromptLongerThanTheLimitIsRefusedFromItsHeader()
    {
        using var dir = TestPaths.CreateTempDir();
        // 45.2 s of float samples that are all NaN: reading them would fail differently, so the duration check
        // must come from the header alone.
        byte[] nan = new byte[(int)(45.2 * 8000) * 4];
        for (int i = 0; i < nan.Length; i += 4) BitConverter.TryWriteBytes(nan.AsSpan(i), float.NaN);
        string path = dir.File("prompt.wav");
        File.WriteAllBytes(path, Wav(8000, nan, tag: 3, bits: 32));

        var e = Assert.Throws<InvalidInputException>(() =>
            PromptAudio.LoadMono(path, 24000, out _, PromptAudio.DefaultMaxPromptSeconds));
        Assert.That(e!.Message, Is.EqualTo($"{path}: prompt is 45.2 s long; the limit is 30 s"));
        Assert.That(e.Setting, Is.EqualTo("maxSeconds"), "the CLI appends (--max-prompt-seconds)");
        Assert.That(Assert.Throws<InvalidInputException>(() => PromptAudio.LoadMono(path, 24000, out _, 12.5))!.Message,
            Does.Contain("the limit is 12.5 s"));
        // Without a limit the samples are read, and the NaNs found.
        Assert.That(Assert.Throws<InvalidInputException>(() => PromptAudio.LoadMono(path, 24000, out _))!.Message, Does.Contain("NaN"));
    }

    [Test]
    public void PromptWithinTheLimitLoadsAndResamples()
    {
        using var dir = TestPaths.CreateTempDir();
        string path = dir.File("ok.wav");
        File.WriteAllBytes(path, Wav(16000, new byte[2 * 16000 * 2]));
        float[] mono = PromptAudio.LoadMono(path, 24000, out WavFormat source, maxSeconds: 2.0);
        Assert.That(source.SampleRate, Is.EqualTo(16000));
        Assert.That(mono, Has.Length.EqualTo(48000));
    }

    [TestCase(0.0)]
    [TestCase(-1.0)]
    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    public void ALimitThatIsNotAPositiveNumberIsACallerError(double limit)
    {
        using var dir = TestPaths.CreateTempDir();
        File.WriteAllBytes(dir.File("ok.wav"), Wav(16000, new byte[64]));
        Assert.Throws<ArgumentOutOfRangeException>(() => PromptAudio.LoadMono(dir.File("ok.wav"), 24000, out _, limit));
    }

    [Test]
    public void DefaultLimitIsThirtySeconds() => Assert.That(PromptAudio.DefaultMaxPromptSeconds, Is.EqualTo(30.0));

    [Test]
    public void EncodeOfAOneHertzWavIsExit3WithOneLine()
    {
        using var dir = TestPaths.CreateTempDir();
        File.WriteAllBytes(dir.File("slow.wav"), Wav(1, new byte[400]));
        var r = CliRunner.Run("encode", dir.File("slow.wav"), "--codec-encoder", dir.File("x.onnx"), "--out", dir.File("o.npy"));
        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.InvalidInput), r.ToString());
        Assert.That(r.Err.Trim().Split('\n'), Has.Length.EqualTo(1), r.ToString());
        Assert.That(r.Err, Does.StartWith("valle: error: ").And.Contain("sample rate 1 Hz is outside 8000..384000 Hz"), r.ToString());
    }
}
