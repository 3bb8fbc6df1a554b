using VallE.Runtime.Audio;
using VallE.Runtime.Text.Ecker;
using VallE.Tests.Codec;
using VallE.Tests.Support;
using VallE.Weights.NumPy;
using static VallE.Tests.Ecker.EckerTestAssets;

namespace VallE.Tests.Ecker;

/// <summary>
/// <c>valle synth</c> on e-c-k-e-r/vall-e checkpoints: our test tokenizer, espeak-ng, the fixtures' prompt codes (no
/// transcript) and the random-weight EnCodec decoder. Noise audio (random weights): the plumbing is what is checked,
/// and that synth runs the very request <c>valle generate</c> runs on the same phoneme ids and prompt.
/// </summary>
public sealed class EckerSynthCommandTests
{
    private static string[] Synth(string fixture, string output, params string[] extra)
    {
        RequireEspeak();
        return
        [
            "synth", "--checkpoint", Fixture(fixture, "fp32.sft"), "--tokenizer", TestTokenizer,
            "--codec-decoder", EncodecTestModels.Decoder, "--prompt-codes", Fixture(fixture, "prompt_codes.npy"),
            "--out", output, "--threads", "1", .. extra,
        ];
    }

    private static WavAudio ValidWav(string path)
    {
        WavAudio wav = WavReader.Read(path);
        Assert.That(wav.Format, Is.EqualTo(new WavFormat(WavSampleFormat.Pcm, 16, 1, 24000)));
        Assert.That(wav.Frames, Is.GreaterThan(0));
        Assert.That(wav.Frames % 320, Is.Zero, "whole codec frames");
        return wav;
    }

    [Test]
    public void ArNarSpeaksTextWithoutATranscript()
    {
        using var dir = TestPaths.CreateTempDir();
        var r = CliRunner.Run(Synth("arnar_d64", dir.File("a.wav"), "--text", "Hello there.", "--temperature", "0"));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(r.Out, Does.Match(@"^synth: \d+\.\d\d s of audio .* AR .* NAR .* codec \(encodec\) .*\(cpu\) -> "));
        ValidWav(dir.File("a.wav"));

        // Sentences: each one an utterance with the same prompt, each written as it finishes.
        var s = CliRunner.Run(Synth("arnar_d64", dir.File("s.wav"), "--text", "Hello there. How are you?", "--sentences", "--temperature", "0"));
        Assert.That(s.ExitCode, Is.Zero, s.ToString());
        ValidWav(dir.File("s.001.wav"));
        ValidWav(dir.File("s.002.wav"));
        ValidWav(dir.File("s.wav"));

        // A transcript is not part of an ecker prompt: given, it is ignored with a warning (same audio).
        var t = CliRunner.Run(Synth("arnar_d64", dir.File("t.wav"), "--text", "Hello there.", "--temperature", "0", "--prompt-text", "Go to her."));
        Assert.That(t.ExitCode, Is.Zero, t.ToString());
        Assert.That(t.Err, Does.Contain("--prompt-text is not used"));
        Assert.That(File.ReadAllBytes(dir.File("t.wav")), Is.EqualTo(File.ReadAllBytes(dir.File("a.wav"))));
    }

    [Test]
    public void NarLenSpeaksGermanWithTheDemaskOptions()
    {
        using var dir = TestPaths.CreateTempDir();
        var r = CliRunner.Run(Synth("narlen_d96", dir.File("n.wav"), "--text", "Guten Tag.", "--language", "de", "--mode", "nar-len",
            "--length", "16", "--demask-steps", "4", "--cfg-strength", "3", "--cfg-rescale", "0.5", "--temperature", "0"));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(ValidWav(dir.File("n.wav")).Frames, Is.EqualTo(16 * 320), "--length 16 frames");
    }

    [Test]
    public void VocosDecodesEckerCodes()
    {
        using var dir = TestPaths.CreateTempDir();
        string[] args = Synth("arnar_d64", dir.File("v.wav"), "--text", "Hello there.", "--temperature", "0", "--vocoder", "vocos");
        args[Array.IndexOf(args, "--codec-decoder") + 1] = VocosTestModels.Decoder;
        var r = CliRunner.Run(args);
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(r.Out, Does.Contain("codec (vocos)"));
        Assert.That(WavReader.Read(dir.File("v.wav")).Frames, Is.GreaterThan(0));
    }

    /// <summary>The same greedy request both ways: synth's phonemes and prompt through <c>valle generate</c>, then <c>valle decode</c>.</summary>
    [TestCase("arnar_d64", "en", "Hello there.")]
    [TestCase("narlen_d96", "fr", "Bonjour.", "--mode", "nar-len", "--length", "12", "--demask-steps", "3")]
    public void SynthEqualsGenerateThenDecode(string fixture, string language, string text, params string[] mode)
    {
        using var dir = TestPaths.CreateTempDir();
        var synth = CliRunner.Run(Synth(fixture, dir.File("synth.wav"), ["--text", text, "--language", language, "--temperature", "0", .. mode]));
        Assert.That(synth.ExitCode, Is.Zero, synth.ToString());

        var tokens = EckerTextFrontEnd.Load(TestTokenizer).Tokenize(text, language);
        Assert.That(tokens.TokenIds, Does.Not.Contain(0), "every phoneme of the test sentence has an id in the test tokenizer");
        Npy.WriteInt64(dir.File("phn.npy"), [.. tokens.TokenIds.Select(i => (long)i)], tokens.TokenIds.Length);
        var generate = CliRunner.Run(["generate", "--checkpoint", Fixture(fixture, "fp32.sft"), "--text-tokens", dir.File("phn.npy"),
            "--prompt-codes", Fixture(fixture, "prompt_codes.npy"), "--codes-out", dir.File("codes.npy"), "--text-language", language,
            "--temperature", "0", "--threads", "1", .. mode]);
        Assert.That(generate.ExitCode, Is.Zero, generate.ToString());
        var decode = CliRunner.Run(["decode", dir.File("codes.npy"), "--codec-decoder", EncodecTestModels.Decoder, "--out", dir.File("generate.wav")]);
        Assert.That(decode.ExitCode, Is.Zero, decode.ToString());
        Assert.That(WavReader.Read(dir.File("synth.wav")).Samples, Is.EqualTo(WavReader.Read(dir.File("generate.wav")).Samples));
    }

    [Test]
    public void RefusalsHaveTheirExitCodes()
    {
        using var dir = TestPaths.CreateTempDir();
        string o = dir.File("o.wav");
        var xx = CliRunner.Run(Synth("arnar_d64", o, "--text", "Hi.", "--language", "xx"));
        Assert.That(xx.ExitCode, Is.EqualTo(2), xx.ToString());
        Assert.That(xx.Err, Does.Contain("--language 'xx'"));
        var zh = CliRunner.Run(Synth("arnar_d64", o, "--text", "Hi.", "--language", "zh"));
        Assert.That(zh.ExitCode, Is.EqualTo(3), zh.ToString());
        Assert.That(zh.Err, Does.Contain("this model has 4 languages").And.Contain("(--language)"));
        Assert.That(CliRunner.Run(Synth("arnar_d64", o, "--text", "Hi.", "--mode", "nar-len")).ExitCode, Is.EqualTo(2), "no len task");
        Assert.That(CliRunner.Run(Synth("arnar_d64", o, "--text", "Hi.", "--length", "5")).ExitCode, Is.EqualTo(2), "--length is nar-len's");
        Assert.That(CliRunner.Run(Synth("arnar_d64", o, "--text", "Hi.", "--best-of", "2")).ExitCode, Is.EqualTo(2));
        Assert.That(CliRunner.Run(Synth("arnar_d64", o, "--text", "Hi.", "--prompt-mode", "sliding")).ExitCode, Is.EqualTo(2));
        var noPrompt = CliRunner.Run(["synth", "--checkpoint", Fixture("arnar_d64", "fp32.sft"), "--tokenizer", TestTokenizer,
            "--codec-decoder", EncodecTestModels.Decoder, "--text", "Hi.", "--out", o]);
        Assert.That(noPrompt.ExitCode, Is.EqualTo(2), noPrompt.ToString());
        string[] args = Synth("arnar_d64", o, "--text", "Hi.");
        args[Array.IndexOf(args, "--tokenizer") + 1] = dir.File("none.json");
        var missing = CliRunner.Run(args);
        Assert.That(missing.ExitCode, Is.EqualTo(3), missing.ToString());
        Assert.That(File.Exists(o), Is.False);
    }

    [Test]
    public void AMissingTokenizerIsAUsageError()
    {
        RequireNoTokenizerVariable();
        using var dir = TestPaths.CreateTempDir();
        string[] args = Synth("arnar_d64", dir.File("o.wav"), "--text", "Hi.");
        int at = Array.IndexOf(args, "--tokenizer");
        var r = CliRunner.Run([.. args[..at], .. args[(at + 2)..]]);
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(r.Err, Does.Contain("tokenizer.json").And.Contain("--tokenizer FILE or $VALLE_ECKER_TOKENIZER"));
    }

    [Test]
    public void EckerOptionsOnAVallECheckpointAreUsageErrors()
    {
        RequireEspeak();
        using var dir = TestPaths.CreateTempDir();
        string[] valle = ["synth", "--checkpoint", TestPaths.RequireShared("valle", "valle-tiny", "checkpoint.pt"),
            "--symbols", TestPaths.RequireShared("text", "unique_text_tokens.k2symbols"), "--codec-decoder", EncodecTestModels.Decoder,
            "--prompt-codes", TestPaths.RequireShared("valle", "valle-tiny", "prompt_codes.npy"), "--prompt-text", "Go to her.",
            "--text", "Hi.", "--out", dir.File("o.wav")];
        var mode = CliRunner.Run([.. valle, "--mode", "ar+nar"]);
        Assert.That(mode.ExitCode, Is.EqualTo(2), mode.ToString());
        Assert.That(mode.Err, Does.Contain("--mode is an e-c-k-e-r/vall-e option"));
        var tokenizer = CliRunner.Run([.. valle, "--tokenizer", TestTokenizer]);
        Assert.That(tokenizer.ExitCode, Is.EqualTo(2), tokenizer.ToString());
    }

    [Test]
    public void GenerateTakesDeviceAutoForEcker()
    {
        // No usable GPU here (or one): auto runs somewhere and the greedy fixture codes come out (CUDA: unverified kernels).
        using var dir = TestPaths.CreateTempDir();
        var r = CliRunner.Run(["generate", "--checkpoint", Fixture("arnar_d64", "fp32.sft"), "--text-tokens", Fixture("arnar_d64", "text.npy"),
            "--prompt-codes", Fixture("arnar_d64", "prompt_codes.npy"), "--codes-out", dir.File("c.npy"), "--temperature", "0",
            "--threads", "1", "--device", "auto"]);
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        if (r.Err.Contains("(cuda)", StringComparison.Ordinal)) Assert.Inconclusive("ran on CUDA: compared in Cuda/CudaEckerTests");
        Assert.That(Npy.Read(dir.File("c.npy")).ToInt64(), Is.EqualTo(Npy.Read(Fixture("arnar_d64", "expected_codes.npy")).ToInt64()));
    }
}
