using System.Text.RegularExpressions;
using VallE.Runtime.Audio;
using VallE.Tests.Codec;
using VallE.Tests.Support;
using VallE.Tests.Text;
using VallE.Weights.NumPy;

namespace VallE.Tests.Pipeline;

/// <summary>
/// <c>valle synth</c> end to end: the tiny upstream fixture checkpoint, the fixture symbol table, espeak-ng and
/// the random-weight EnCodec pair. The voice is noise (untrained weights); what is checked is the plumbing.
/// </summary>
public class SynthCommandTests
{
    private static string[] Base(TempDir dir, string output, params string[] extra)
    {
        EspeakTestSupport.RequireEspeak();
        return
        [
            "synth",
            "--checkpoint", TestPaths.RequireShared("valle", "valle-tiny", "checkpoint.pt"),
            "--symbols", TestPaths.RequireShared("text", "unique_text_tokens.k2symbols"),
            "--codec-decoder", EncodecTestModels.Decoder,
            "--prompt-text", "Go to her.",
            "--out", dir.File(output),
            "--threads", "1",
            .. extra,
        ];
    }

    private static string PromptCodes(TempDir dir)
    {
        string path = dir.File("prompt.npy");
        File.Copy(TestPaths.RequireShared("valle", "valle-tiny", "prompt_codes.npy"), path);
        return path;
    }

    [Test]
    public void SynthWritesWholeFramesAndASummaryAndIsReproducibleWithASeed()
    {
        using var dir = TestPaths.CreateTempDir();
        string prompt = PromptCodes(dir);
        var a = CliRunner.Run(Base(dir, "a.wav", "--prompt-codes", prompt, "--text", "Hello there.", "--seed", "7", "--max-duration", "0.8"));
        Assert.That(a.ExitCode, Is.Zero, a.ToString());
        Assert.That(a.Out, Does.Match(@"^synth: \d+\.\d\d s of audio in \d+\.\d\d s \(real-time factor \d+\.\d+\); text .* AR .* \(\d+ steps, .* NAR .* codec .*-> "));
        WavAudio wav = WavReader.Read(dir.File("a.wav"));
        Assert.That(wav.Format, Is.EqualTo(new WavFormat(WavSampleFormat.Pcm, 16, 1, 24000)));
        Assert.That(wav.Frames % 320, Is.Zero);
        Assert.That(wav.Frames / 320, Is.InRange(1, 60));

        var b = CliRunner.Run(Base(dir, "b.wav", "--prompt-codes", prompt, "--text", "Hello there.", "--seed", "7", "--max-duration", "0.8"));
        Assert.That(b.ExitCode, Is.Zero, b.ToString());
        Assert.That(File.ReadAllBytes(dir.File("b.wav")), Is.EqualTo(File.ReadAllBytes(dir.File("a.wav"))));
    }

    [Test]
    public void PromptWavIsEncodedWithTheEncoder()
    {
        using var dir = TestPaths.CreateTempDir();
        string wav = TestPaths.RequireShared("audio", "8455_210777_000067_000000.wav");
        var r = CliRunner.Run(Base(dir, "o.wav", "--prompt-wav", wav, "--codec-encoder", EncodecTestModels.Encoder,
            "--text", "Yes.", "--top-k", "1", "--max-duration", "0.2", "--sample-format", "f32", "--weights-dtype", "bf16"));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(WavReader.Read(dir.File("o.wav")).Format.Format, Is.EqualTo(WavSampleFormat.Float));
        Assert.That(Regex.Match(r.Out, @"prompt (\d+\.\d\d) s").Success, Is.True, r.Out);
    }

    [Test]
    public void SentencesAreWrittenAsTheyFinishAndJoinedWithGaps()
    {
        using var dir = TestPaths.CreateTempDir();
        var r = CliRunner.Run(Base(dir, "s.wav", "--prompt-codes", PromptCodes(dir), "--text", "One. Two! Three?", "--seed", "3", "--max-duration", "0.2", "--sentences"));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(r.Out, Does.Contain("first audio"));
        int total = 0;
        for (int i = 1; i <= 3; i++)
        {
            string part = dir.File($"s.{i:D3}.wav");
            Assert.That(File.Exists(part), part);
            Assert.That(r.Err, Does.Contain($"sentence {i}/3"));
            total += WavReader.Read(part).Frames;
        }
        Assert.That(WavReader.Read(dir.File("s.wav")).Frames, Is.EqualTo(total + 2 * 4800));
    }

    [Test]
    public void DeviceCudaNeedsAGpuAndAutoFallsBackToTheCpu()
    {
        using var dir = TestPaths.CreateTempDir();
        string prompt = PromptCodes(dir);
        var auto = CliRunner.Run(Base(dir, "a.wav", "--prompt-codes", prompt, "--text", "Hi.", "--seed", "1", "--max-duration", "0.2", "--device", "auto"));
        Assert.That(auto.ExitCode, Is.Zero, auto.ToString());
        var cuda = CliRunner.Run(Base(dir, "c.wav", "--prompt-codes", prompt, "--text", "Hi.", "--seed", "1", "--max-duration", "0.2", "--device", "cuda"));
        if (auto.Out.Contains("(cuda)", StringComparison.Ordinal))
        {
            Assert.That(cuda.ExitCode, Is.Zero, cuda.ToString());
            Assert.Pass("a usable GPU: both ran on CUDA");
        }
        Assert.That(auto.Out, Does.Contain("(cpu)"));
        Assert.That(auto.Err, Does.Contain("running on the CPU"));
        Assert.That(cuda.ExitCode, Is.EqualTo(3), cuda.ToString());
        Assert.That(cuda.Err, Does.StartWith("valle: error: --device cuda: "));
        Assert.That(File.Exists(dir.File("c.wav")), Is.False);
    }

    [Test]
    public void UsageAndInputErrorsLeaveNoOutput()
    {
        using var dir = TestPaths.CreateTempDir();
        string prompt = PromptCodes(dir);
        var r = CliRunner.Run(Base(dir, "o.wav", "--text", "Hi."));
        Assert.That((r.ExitCode, r.Err), Is.EqualTo((2, "valle: error: give exactly one of --prompt-wav and --prompt-codes\n")));
        r = CliRunner.Run(Base(dir, "o.wav", "--prompt-wav", "x.wav", "--text", "Hi."));
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        r = CliRunner.Run(Base(dir, "o.wav", "--prompt-codes", prompt, "--text", "Hi.", "--device", "tpu"));
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        r = CliRunner.Run(Base(dir, "o.wav", "--prompt-codes", prompt, "--text", "Hi.", "--temperature", "-1"));
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());

        Npy.Write(dir.File("bad.npy"), NpyArray.FromInt64(new long[4], 1, 4));
        r = CliRunner.Run(Base(dir, "o.wav", "--prompt-codes", dir.File("bad.npy"), "--text", "Hi."));
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        r = CliRunner.Run(Base(dir, "o.wav", "--prompt-codes", prompt, "--text", "   "));
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        var args = Base(dir, "o.wav", "--prompt-codes", prompt, "--text", "Hi.");
        args[Array.IndexOf(args, "--checkpoint") + 1] = prompt;   // not a checkpoint
        r = CliRunner.Run(args);
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        Assert.That(File.Exists(dir.File("o.wav")), Is.False);
    }
}
