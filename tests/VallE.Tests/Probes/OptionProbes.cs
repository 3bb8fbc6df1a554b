using VallE.Tests.Support;

namespace VallE.Tests.Probes;

/// <summary>
/// Options (hardening class 11): one validation of the sampling values, applied before anything is loaded (so a
/// missing checkpoint is not even opened), one line for a broken ONNX Runtime library or the removed --onnxruntime.
/// </summary>
public class OptionProbes
{
    [TestCase("--temperature", "-1", "must be a finite number >= 0")]
    [TestCase("--temperature", "NaN", "must be a finite number >= 0")]
    [TestCase("--top-p", "-0.5", "must be in [0, 1]")]
    [TestCase("--top-p", "1.5", "must be in [0, 1]")]
    [TestCase("--min-p", "2", "must be in [0, 1]")]
    [TestCase("--repetition-penalty", "0", "must be a finite number > 0")]
    [TestCase("--repetition-window", "-3", "must be >= 0")]
    [TestCase("--max-duration", "0", "must be in (0, 3600]")]
    [TestCase("--max-prompt-seconds", "-5", "must be in (0, 3600]")]
    public void BadSamplingValuesAreUsageErrorsBeforeLoading(string option, string value, string message)
    {
        using var p = new Probe();
        foreach (string command in new[] { "generate", "synth" })
        {
            string[] args = command == "generate"
                ? ["generate", "--checkpoint", "/nonexistent.pt", "--text-tokens", "/nonexistent.npy", "--prompt-codes", "/nonexistent.npy", "--codes-out", p.File("o.npy")]
                : ["synth", "--checkpoint", "/nonexistent.pt", "--symbols", "/nonexistent", "--codec-decoder", "/nonexistent.onnx",
                    "--prompt-codes", "/nonexistent.npy", "--prompt-text", "a", "--text", "b", "--out", p.File("o.wav")];
            string error = p.Fails(p.Run([.. args, option, value]), 2, message, maxSeconds: 10);
            Assert.That(error, Does.Contain(option), command);
        }
    }

    /// <summary>Temperature 0 is greedy, as the message of the one check says: accepted, and equal to --top-k 1.</summary>
    [Test]
    public void TemperatureZeroIsGreedy()
    {
        using var p = new Probe();
        string[] Args(string output, params string[] extra) =>
        [
            "generate", "--checkpoint", ProbeInputs.TinyModel, "--text-tokens", ProbeInputs.Tokens, "--prompt-codes", ProbeInputs.PromptCodes,
            "--codes-out", p.Own(output), "--threads", "1", .. extra,
        ];
        var zero = p.Run(Args("t0.npy", "--temperature", "0"));
        var topk = p.Run(Args("k1.npy", "--top-k", "1"));
        Assert.That(zero.ExitCode, Is.Zero, zero.ToString());
        Assert.That(topk.ExitCode, Is.Zero, topk.ToString());
        Assert.That(File.ReadAllBytes(p.File("t0.npy")), Is.EqualTo(File.ReadAllBytes(p.File("k1.npy"))));
    }

    /// <summary>
    /// ONNX Runtime is the Microsoft.ML.OnnxRuntime package's library beside valle.dll. A copy of the application
    /// whose libonnxruntime.so is not a library fails in one line, exit 3 (no TypeInitializationException trace).
    /// </summary>
    [Test]
    public void BrokenOnnxRuntimeLibraryIsOneLine()
    {
        if (!OperatingSystem.IsLinux() || System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
            Assert.Ignore("checks the linux-x64 copy of libonnxruntime");
        string codes = ProbeInputs.PromptCodes, decoder = ProbeInputs.CodecDecoder;
        using var p = new Probe();
        using var app = new TempDir();
        string source = Path.GetDirectoryName(ValleProcess.ValleDll)!;
        foreach (string file in Directory.EnumerateFiles(source)) File.Copy(file, Path.Combine(app.Path, Path.GetFileName(file)));
        string native = Path.Combine(app.Path, "runtimes", "linux-x64", "native");
        Directory.CreateDirectory(native);
        foreach (string file in Directory.EnumerateFiles(Path.Combine(source, "runtimes", "linux-x64", "native")))
            File.Copy(file, Path.Combine(native, Path.GetFileName(file)));
        File.WriteAllText(Path.Combine(native, "libonnxruntime.so"), "not a library");
        var r = p.Run(["decode", codes, "--codec-decoder", decoder, "--out", p.File("o.wav")], valleDll: Path.Combine(app.Path, "valle.dll"));
        p.Fails(r, 3, "ONNX Runtime");
    }

    [Test]
    public void RemovedOnnxRuntimeOptionIsOneUsageLine()
    {
        using var p = new Probe();
        var r = p.Run(["decode", ProbeInputs.PromptCodes, "--codec-decoder", ProbeInputs.CodecDecoder, "--out", p.File("o.wav"), "--onnxruntime", "/x/libonnxruntime.so"]);
        p.Fails(r, 2, "--onnxruntime was removed");
    }
}
