using System.Text;

namespace VallE.Tests.Probes;

/// <summary>Long, empty and unpronounceable text (hardening classes 1 and 8).</summary>
public class TextProbes
{
    private static string[] Synth(Probe p, string output, params string[] extra) =>
    [
        "synth", "--checkpoint", ProbeInputs.TinyModel, "--symbols", ProbeInputs.Symbols,
        "--codec-decoder", ProbeInputs.CodecDecoder, "--prompt-codes", ProbeInputs.PromptCodes,
        "--prompt-text", "Go to her.", "--out", p.File(output), "--threads", "1", "--max-duration", "0.2", .. extra,
    ];

    /// <summary>
    /// A 29 KB --text used to abort the runtime (exit 134) when ONNX Runtime loaded. Now long text on the command line
    /// is treated like text from a file: here too long for one utterance, which says so (exit 3, pointing at
    /// --sentences) after the codec encoder has loaded.
    /// </summary>
    [TestCase(30_000)]
    [TestCase(100_000)]
    public void HugeTextArgumentEndsCleanly(int length)
    {
        ProbeInputs.RequireEspeak();
        using var p = new Probe();
        string text = string.Concat(Enumerable.Repeat("Hello there. ", length / 13 + 1))[..length];
        var r = p.Run(["synth", "--checkpoint", ProbeInputs.TinyModel, "--symbols", ProbeInputs.Symbols,
            "--codec-decoder", ProbeInputs.CodecDecoder, "--codec-encoder", ProbeInputs.CodecEncoder, "--prompt-wav", ProbeInputs.PromptWav,
            "--prompt-text", "Go to her.", "--out", p.File("out.wav"), "--threads", "1", "--text", text]);
        p.Fails(r, 3, "--sentences", maxSeconds: 30);
    }

    [Test]
    public void HugeArgumentToPhonemizeWorks()
    {
        ProbeInputs.RequireEspeak();
        using var p = new Probe();
        var r = p.Run(["phonemize", string.Concat(Enumerable.Repeat("word ", 8000))]);
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Probe.Bounded(r, 30, 1024);
    }

    /// <summary>100 KB of text from a file without --sentences: too many tokens for one utterance, said at once.</summary>
    [Test]
    public void HundredKilobytesInOneUtteranceIsAnInputError()
    {
        ProbeInputs.RequireEspeak();
        using var p = new Probe();
        string file = p.Input("long.txt", LongText(100_000));
        var r = p.Run([.. Synth(p, "out.wav"), "--text-file", file]);
        p.Fails(r, 3, "--sentences", maxSeconds: 30);
    }

    /// <summary>
    /// 100 KB with --sentences whose last sentence cannot be tokenized (a Russian name gives a phoneme the English
    /// table lacks): every sentence is checked before the first is synthesised, so this fails fast, naming the
    /// sentence, with no sentence file written. (Without the bad sentence the same text synthesises its ~2,000
    /// sentences with the tiny model in about 30 s.)
    /// </summary>
    [Test]
    public void EverySentenceIsCheckedBeforeAnyIsSynthesised()
    {
        ProbeInputs.RequireEspeak();
        using var p = new Probe();
        string file = p.Input("long.txt", LongText(100_000) + " Юрий.");
        var r = p.Run([.. Synth(p, "out.wav"), "--text-file", file, "--sentences"]);
        string error = p.Fails(r, 3, "is not in the symbol table", maxSeconds: 20);
        Assert.That(error, Does.Match(@"sentence (\d+) of \1"), r.ToString());
    }

    [TestCase("...!?")]
    [TestCase(" , ; ")]
    public void TextWithNothingToPronounceFailsBeforeTheModelRuns(string text)
    {
        ProbeInputs.RequireEspeak();
        using var p = new Probe();
        var r = p.Run([.. Synth(p, "out.wav"), "--text", text]);
        p.Fails(r, 3, "nothing espeak-ng can pronounce");
        Assert.That(r.Err, Does.Not.Contain("AR frame"), r.ToString());
    }

    [Test]
    public void TextFromStandardInputWorks()
    {
        ProbeInputs.RequireEspeak();
        using var p = new Probe();
        var r = p.Run([.. Synth(p, "out.wav"), "--text-file", "-", "--seed", "1"], stdin: Encoding.UTF8.GetBytes("Hello there."));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(File.Exists(p.File("out.wav")), r.ToString());
    }

    [Test]
    public void TextAndTextFileTogetherIsAUsageError()
    {
        using var p = new Probe();
        string file = p.Input("t.txt", "Hello.");
        var r = p.Run([.. Synth(p, "out.wav"), "--text", "Hi.", "--text-file", file]);
        p.Fails(r, 2, "exactly one of --text and --text-file");
    }

    [Test]
    public void OnlyOneTextCanComeFromStandardInput()
    {
        using var p = new Probe();
        var r = p.Run(["synth", "--checkpoint", ProbeInputs.TinyModel, "--symbols", "/nonexistent", "--codec-decoder", "/nonexistent.onnx",
            "--prompt-codes", ProbeInputs.PromptCodes, "--prompt-text-file", "-", "--text-file", "-", "--out", p.File("o.wav")]);
        p.Fails(r, 2, "cannot both read standard input");
    }

    [Test]
    public void BinaryTextFileIsAnInputError()
    {
        ProbeInputs.RequireEspeak();
        using var p = new Probe();
        string file = p.Input("t.txt", [0xff, 0xfe, 0x00, 0xc3, 0x28]);
        var r = p.Run([.. Synth(p, "out.wav"), "--text-file", file]);
        p.Fails(r, 3, "not valid UTF-8");
    }

    [Test]
    public void PhonemizeReadsOneTextPerLineOfAFile()
    {
        ProbeInputs.RequireEspeak();
        using var p = new Probe();
        string file = p.Input("t.txt", "Hello.\n\nGood bye.\n");
        var r = p.Run(["phonemize", "--text-file", file, "--json"]);
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(System.Text.Json.JsonDocument.Parse(r.Out).RootElement.GetArrayLength(), Is.EqualTo(2), r.ToString());
    }

    private static string LongText(int bytes)
    {
        var sb = new StringBuilder();
        for (int i = 0; sb.Length < bytes; i++) sb.Append($"This is sentence number {i % 97} of a rather long story. ");
        return sb.ToString();
    }
}
