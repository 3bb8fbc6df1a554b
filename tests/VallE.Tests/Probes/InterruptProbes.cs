namespace VallE.Tests.Probes;

/// <summary>
/// Ctrl-C (hardening class 2): SIGINT while a command works ends it with exit 130 within about a second (3 s at
/// worst on a 2-core machine), with no output file and no temporary file left behind.
/// </summary>
/// <remarks>
/// Timing, made independent of the machine's load (these failed on a busy 2-core machine):
/// <list type="bullet">
/// <item>SIGINT is sent once the command has used <see cref="CpuSecondsBeforeSignal"/> of CPU time, i.e. it is past
/// its start-up (Main installs the Ctrl-C handler first; a whole `valle --version` uses 0.2-0.3 CPU-s) and into
/// its work (at 1 CPU-s synth may still be loading, and stopping then took up to 1.3 CPU-s).
/// A wall-clock delay could run out before the runtime had even started on a loaded machine (the signal then kills
/// it: exit 130 without the error line), and it used to include the making of the probe's inputs. How long the
/// command takes to use that CPU time depends on the load, hence the long <see cref="TimeoutSeconds"/>.</item>
/// <item>How fast it stops is bounded by the CPU time it uses after SIGINT (the work it does before it notices; a
/// single thread doing 3 s of it would take 3 s on an idle machine, so this is at least as strict as the 3 s wall
/// bound there), which other processes cannot stretch as they stretch the wall time. The wall time keeps a loose
/// bound, <see cref="MaxWallSecondsToStop"/>, for a stop that waits instead of working.</item>
/// </list>
/// </remarks>
public class InterruptProbes
{
    /// <summary>CPU time the command may use between SIGINT and its exit (where /proc is absent: wall time).</summary>
    private const double MaxSecondsToStop = 3.0;

    /// <summary>Wall time the command may take between SIGINT and its exit, however busy the machine.</summary>
    private const double MaxWallSecondsToStop = 30.0;

    /// <summary>CPU time the command has used when it is interrupted.</summary>
    private const double CpuSecondsBeforeSignal = 2.0;

    /// <summary>The run's time limit (a hang guard: a busy machine can take minutes to give it its CPU time).</summary>
    private const double TimeoutSeconds = 300;

    /// <summary>Past start-up and working (where /proc is absent: 2.5 s after it started).</summary>
    private static bool Working(VallE.Tests.Support.ValleProcess.Running s) =>
        s.Cpu is { } cpu ? cpu.TotalSeconds > CpuSecondsBeforeSignal : s.Elapsed.TotalSeconds > 2.5;

    private static void AssertInterrupted(Probe p, VallE.Tests.Support.ValleProcess.Result r)
    {
        Assert.That(r.SignalToExit, Is.Not.Null, "the command finished before it could be interrupted: make the probe's work longer\n" + r);
        Assert.That(r.ExitCode, Is.EqualTo(130), r.ToString());
        Assert.That(r.Err, Does.Contain("valle: error: interrupted"), r.ToString());
        Assert.That((r.CpuAfterSignal ?? r.SignalToExit)!.Value.TotalSeconds, Is.LessThan(MaxSecondsToStop), r.ToString());
        Assert.That(r.SignalToExit!.Value.TotalSeconds, Is.LessThan(MaxWallSecondsToStop), r.ToString());
        Assert.That(p.Leftovers(), Is.Empty, r.ToString());
        TestContext.Out.WriteLine($"stopped {r.SignalToExit.Value.TotalMilliseconds:F0} ms after SIGINT, using {r.CpuAfterSignal?.TotalMilliseconds:F0} ms of CPU time");
    }

    [Test]
    public void GenerateStopsMidRun()
    {
        using var p = new Probe();
        string model = ProbeInputs.SlowModel, tokens = ProbeInputs.LongTokens, prompt = ProbeInputs.LongPromptCodes;
        var r = p.Run(["generate", "--checkpoint", model, "--text-tokens", tokens, "--prompt-codes", prompt,
                "--codes-out", p.File("out.npy"), "--threads", "2"],
            timeoutSeconds: TimeoutSeconds, interruptWhen: Working);
        AssertInterrupted(p, r);
    }

    [Test]
    public void EncodeStopsMidRun()
    {
        using var p = new Probe();
        string encoder = ProbeInputs.CodecEncoder;
        string wav = p.Input("long.wav", ProbeInputs.Wav(24000, 240));
        var r = p.Run(["encode", wav, "--codec-encoder", encoder, "--out", p.File("codes.npy")],
            timeoutSeconds: TimeoutSeconds, interruptWhen: Working);
        AssertInterrupted(p, r);
    }

    [Test]
    public void OneSentenceSynthStopsMidRun()
    {
        ProbeInputs.RequireEspeak();
        using var p = new Probe();
        string model = ProbeInputs.SlowModel, prompt = ProbeInputs.LongPromptCodes;
        string text = string.Join(' ', Enumerable.Repeat("a long sentence that keeps going", 14));
        var r = p.Run(["synth", "--checkpoint", model, "--symbols", ProbeInputs.Symbols, "--codec-decoder", ProbeInputs.CodecDecoder,
                "--prompt-codes", prompt, "--prompt-text", "Go to her.", "--text", text, "--out", p.File("out.wav"), "--threads", "2"],
            timeoutSeconds: TimeoutSeconds, interruptWhen: Working);
        AssertInterrupted(p, r);
    }
}
