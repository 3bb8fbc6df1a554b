namespace VallE.Tests.Probes;

/// <summary>
/// Ctrl-C (hardening class 2): SIGINT while a command works ends it with exit 130 within about a second (3 s at
/// worst on a 2-core machine), with no output file and no temporary file left behind.
/// </summary>
public class InterruptProbes
{
    /// <summary>How long after SIGINT the process may take to exit.</summary>
    private const double MaxSecondsToStop = 3.0;

    private static void AssertInterrupted(Probe p, VallE.Tests.Support.ValleProcess.Result r)
    {
        Assert.That(r.SignalToExit, Is.Not.Null, "the command finished before it could be interrupted: make the probe's work longer\n" + r);
        Assert.That(r.ExitCode, Is.EqualTo(130), r.ToString());
        Assert.That(r.Err, Does.Contain("valle: error: interrupted"), r.ToString());
        Assert.That(r.SignalToExit!.Value.TotalSeconds, Is.LessThan(MaxSecondsToStop), r.ToString());
        Assert.That(p.Leftovers(), Is.Empty, r.ToString());
        TestContext.Out.WriteLine($"stopped {r.SignalToExit.Value.TotalMilliseconds:F0} ms after SIGINT");
    }

    [Test]
    public void GenerateStopsMidRun()
    {
        using var p = new Probe();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string model = ProbeInputs.SlowModel, tokens = ProbeInputs.LongTokens, prompt = ProbeInputs.LongPromptCodes;
        var r = p.Run(["generate", "--checkpoint", model, "--text-tokens", tokens, "--prompt-codes", prompt,
                "--codes-out", p.File("out.npy"), "--threads", "2"],
            interruptWhen: _ => clock.Elapsed.TotalSeconds > 2.5);
        AssertInterrupted(p, r);
    }

    [Test]
    public void EncodeStopsMidRun()
    {
        using var p = new Probe();
        string encoder = ProbeInputs.CodecEncoder;
        string wav = p.Input("long.wav", ProbeInputs.Wav(24000, 240));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var r = p.Run(["encode", wav, "--codec-encoder", encoder, "--out", p.File("codes.npy")],
            interruptWhen: _ => clock.Elapsed.TotalSeconds > 2.5);
        AssertInterrupted(p, r);
    }

    [Test]
    public void OneSentenceSynthStopsMidRun()
    {
        ProbeInputs.RequireEspeak();
        using var p = new Probe();
        string model = ProbeInputs.SlowModel, prompt = ProbeInputs.LongPromptCodes;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string text = string.Join(' ', Enumerable.Repeat("a long sentence that keeps going", 14));
        var r = p.Run(["synth", "--checkpoint", model, "--symbols", ProbeInputs.Symbols, "--codec-decoder", ProbeInputs.CodecDecoder,
                "--prompt-codes", prompt, "--prompt-text", "Go to her.", "--text", text, "--out", p.File("out.wav"), "--threads", "2"],
            interruptWhen: _ => clock.Elapsed.TotalSeconds > 3);
        AssertInterrupted(p, r);
    }
}
