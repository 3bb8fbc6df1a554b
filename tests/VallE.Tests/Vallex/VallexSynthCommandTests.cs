using VallE.Runtime.Audio;
using VallE.Tests.Codec;
using VallE.Tests.Support;

namespace VallE.Tests.Vallex;

/// <summary>
/// <c>valle synth</c> with a VALL-E X checkpoint end to end: the tiny fixture checkpoint (nhead 4), real VALL-E X
/// presets, VALL-E X's own front end (no <c>--symbols</c>) and the random-weight EnCodec pair. The voice is noise
/// (untrained weights); what is checked is the plumbing.
/// </summary>
public class VallexSynthCommandTests
{
    private static string[] Base(TempDir dir, string output, params string[] extra) =>
    [
        "synth",
        "--checkpoint", TestPaths.RequireShared("valle", "vallex-tiny", "checkpoint.pt"),
        "--nhead", "4",
        "--codec-decoder", EncodecTestModels.Decoder,
        "--out", dir.File(output),
        "--threads", "1",
        "--seed", "5",
        "--max-duration", "0.3",
        .. extra,
    ];

    private static string Preset(string name) => TestPaths.RequireShared("vallex-presets", name + ".npz");

    private static void AssertWav(string path, int minFrames = 1)
    {
        WavAudio wav = WavReader.Read(path);
        Assert.That(wav.Format, Is.EqualTo(new WavFormat(WavSampleFormat.Pcm, 16, 1, 24000)));
        Assert.That(wav.Frames % 320, Is.Zero);
        Assert.That(wav.Frames / 320, Is.GreaterThanOrEqualTo(minFrames));
    }

    [Test]
    public void PresetVoiceSpeaksTextWithoutSymbolsAndIsReproducible()
    {
        using var dir = TestPaths.CreateTempDir();
        var a = CliRunner.Run(Base(dir, "a.wav", "--voice-preset", Preset("alan"), "--language", "en", "--text", "Hello there."));
        Assert.That(a.ExitCode, Is.Zero, a.ToString());
        Assert.That(a.Out, Does.StartWith("synth: "));
        AssertWav(dir.File("a.wav"));
        var b = CliRunner.Run(Base(dir, "b.wav", "--voice-preset", Preset("alan"), "--text", "Hello there."));   // auto = en
        Assert.That(b.ExitCode, Is.Zero, b.ToString());
        Assert.That(File.ReadAllBytes(dir.File("b.wav")), Is.EqualTo(File.ReadAllBytes(dir.File("a.wav"))));
    }

    [Test]
    public void WavPromptWithTranscriptAndNoPromptAtAll()
    {
        using var dir = TestPaths.CreateTempDir();
        string wav = TestPaths.RequireShared("audio", "8455_210777_000067_000000.wav");
        var r = CliRunner.Run(Base(dir, "w.wav", "--prompt-wav", wav, "--codec-encoder", EncodecTestModels.Encoder,
            "--prompt-text", "Hello.", "--prompt-language", "en", "--language", "zh", "--text", "你好。"));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        AssertWav(dir.File("w.wav"));
        r = CliRunner.Run(Base(dir, "n.wav", "--text", "Hi."));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        AssertWav(dir.File("n.wav"));
    }

    [Test]
    public void SentencesFixedAndSlidingAndBestOf()
    {
        using var dir = TestPaths.CreateTempDir();
        foreach (string mode in new[] { "fixed", "sliding" })
        {
            var r = CliRunner.Run(Base(dir, $"{mode}.wav", "--voice-preset", Preset("cafe"), "--text", "One. Two!", "--sentences",
                "--prompt-mode", mode, "--best-of", "3"));
            Assert.That(r.ExitCode, Is.Zero, r.ToString());
            Assert.That(File.Exists(dir.File($"{mode}.001.wav")) && File.Exists(dir.File($"{mode}.002.wav")), r.ToString());
            AssertWav(dir.File($"{mode}.wav"), 2);
        }
    }

    [Test]
    public void UsageErrors()
    {
        using var dir = TestPaths.CreateTempDir();
        var r = CliRunner.Run(Base(dir, "o.wav", "--voice-preset", Preset("alan"), "--text", "Hi.", "--language", "fr"));
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(r.Err, Does.Contain("en, zh, ja, mix or auto"));
        r = CliRunner.Run(Base(dir, "o.wav", "--voice-preset", Preset("alan"), "--prompt-text", "Hi.", "--text", "Hi."));
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        r = CliRunner.Run(Base(dir, "o.wav", "--prompt-codes", TestPaths.RequireShared("valle", "vallex-tiny", "prompt_codes.npy"), "--text", "Hi."));
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(r.Err, Does.Contain("transcript"));
        r = CliRunner.Run(Base(dir, "o.wav", "--voice-preset", Preset("alan"), "--text", "Hi.", "--best-of", "0"));
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        r = CliRunner.Run(Base(dir, "o.wav", "--voice-preset", Preset("alan"), "--text", "Hi.", "--prompt-mode", "random"));
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        r = CliRunner.Run(Base(dir, "o.wav", "--voice-preset", TestPaths.RequireShared("valle", "vallex-tiny", "meta.json"), "--text", "Hi."));
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        Assert.That(File.Exists(dir.File("o.wav")), Is.False);
    }

    [Test]
    public void PromptRecordingsOverUpstreamsFifteenSecondsAreRefused()
    {
        using var dir = TestPaths.CreateTempDir();
        string wav = dir.File("long.wav");
        WavWriter.Write(wav, new float[24000 * 16], 24000, WavOutputFormat.Pcm16);
        var r = CliRunner.Run(Base(dir, "o.wav", "--prompt-wav", wav, "--codec-encoder", EncodecTestModels.Encoder,
            "--prompt-text", "Hello.", "--text", "Hi."));
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        Assert.That(r.Err, Does.Contain("at most 15 s"));
        Assert.That(File.Exists(dir.File("o.wav")), Is.False);
    }

    [Test]
    public void LifeitengCheckpointsRejectVallexOptions()
    {
        using var dir = TestPaths.CreateTempDir();
        string[] args =
        [
            "synth",
            "--checkpoint", TestPaths.RequireShared("valle", "valle-tiny", "checkpoint.pt"),
            "--codec-decoder", EncodecTestModels.Decoder,
            "--voice-preset", Preset("alan"),
            "--text", "Hi.",
            "--out", dir.File("o.wav"),
        ];
        var r = CliRunner.Run(args);
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(r.Err, Does.Contain("--symbols is required"));
    }
}
