using VallE.Tests.Audio;
using VallE.Tests.Pickle;
using VallE.Tests.Zip;

namespace VallE.Tests.Probes;

/// <summary>
/// Hostile and extreme input files through every command that reads them (hardening classes 4, 5 and the earlier
/// ones): sizes that overflow, tiny files that claim gigabytes, absurd sample rates, over-long prompts, hostile
/// checkpoints, broken ONNX models and symbol tables. Each ends in exit 3, one line, bounded time and memory.
/// </summary>
public class InputProbes
{
    private static string[] Generate(Probe p, string prompt, params string[] extra) =>
    [
        "generate", "--checkpoint", ProbeInputs.TinyModel, "--text-tokens", ProbeInputs.Tokens, "--prompt-codes", prompt,
        "--codes-out", p.File("out.npy"), "--threads", "1", .. extra,
    ];

    [TestCase("(2305843009213693952, 8)", "too many")]        // 2^61 frames: the element count overflows
    [TestCase("(4611686018427387904, 4611686018427387904)", "too many")]
    [TestCase("(100000000, 8)", "")]                          // 6.4 GB claimed, 16 bytes present
    public void NpyHeaderClaimingHugeSizes(string shape, string message)
    {
        using var p = new Probe();
        string npy = p.Input("huge.npy", ProbeInputs.NpyHeader(shape));
        p.Fails(p.Run(Generate(p, npy)), 3, message, maxRssMb: 400);
        p.Fails(p.Run(["decode", npy, "--codec-decoder", "/nonexistent.onnx", "--out", p.File("o.wav")]), 3, "", maxRssMb: 400);
    }

    [TestCase(1)]
    [TestCase(7999)]
    [TestCase(400_000)]
    public void AbsurdSampleRatesAreRefused(int rate)
    {
        using var p = new Probe();
        byte[] wav = new WavBuilder().Chunk("fmt ", WavBuilder.Fmt(1, 1, rate, 16)).Chunk("data", new byte[400]).Build();
        string path = p.Input("odd.wav", wav);
        p.Fails(p.Run(["encode", path, "--codec-encoder", "/nonexistent.onnx", "--out", p.File("c.npy")]), 3, "8000..384000 Hz", maxRssMb: 400);
    }

    [Test]
    public void TinyWavClaimingGigabytesIsBounded()
    {
        using var p = new Probe();
        byte[] wav = new WavBuilder().Chunk("fmt ", WavBuilder.Fmt(1, 2, 8000, 16)).Chunk("data", new byte[64], sizeOverride: 0xFFFF_FFF0).Build();
        string path = p.Input("liar.wav", wav);
        var r = p.Run(["encode", path, "--codec-encoder", "/nonexistent.onnx", "--out", p.File("c.npy")]);
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        Probe.Bounded(r, 15, 400);
    }

    [Test]
    public void OverlongPromptWavIsRefusedWithTheLimit()
    {
        ProbeInputs.RequireEspeak();
        using var p = new Probe();
        string wav = p.Input("long.wav", ProbeInputs.Wav(16000, 45));
        var r = p.Run(["synth", "--checkpoint", ProbeInputs.TinyModel, "--symbols", ProbeInputs.Symbols, "--codec-decoder", ProbeInputs.CodecDecoder,
            "--codec-encoder", ProbeInputs.CodecEncoder, "--prompt-wav", wav, "--prompt-text", "Go.", "--text", "Hi.", "--out", p.File("o.wav")]);
        p.Fails(r, 3, "the limit is 30 s");
        var raised = p.Run(["synth", "--checkpoint", ProbeInputs.TinyModel, "--symbols", ProbeInputs.Symbols, "--codec-decoder", ProbeInputs.CodecDecoder,
            "--codec-encoder", ProbeInputs.CodecEncoder, "--prompt-wav", wav, "--prompt-text", "Go.", "--text", "Hi.", "--out", p.File("o.wav"),
            "--max-prompt-seconds", "20"]);
        p.Fails(raised, 3, "the limit is 20 s");
    }

    [Test]
    public void OverlongPromptCodesAreRefusedWithTheLimit()
    {
        using var p = new Probe();
        string codes = p.Input("long.npy", ProbeInputs.NpyHeader("(3000, 8)", 3000 * 8 * 8));
        p.Fails(p.Run(Generate(p, codes)), 3, "the limit is 30 s (--max-prompt-seconds)");
    }

    [Test]
    public void HostileCheckpointNeverRuns()
    {
        using var p = new Probe();
        string marker = p.File("pwned");
        var pickle = new PickleBuilder().Proto(2).Global("posix", "system").Str($"touch {marker}").Tuple1().Reduce().Stop().Bytes;
        string ckpt = p.Input("evil.pt", new TestZip().Add("archive/data.pkl", pickle).Build().Bytes);
        var r = p.Run(["generate", "--checkpoint", ckpt, "--text-tokens", ProbeInputs.Tokens, "--prompt-codes", ProbeInputs.PromptCodes,
            "--codes-out", p.File("out.npy")]);
        p.Fails(r, 3, "refusing global 'posix.system'");
        Assert.That(File.Exists(marker), Is.False);
    }

    [Test]
    public void RandomBytesAsOnnxModel()
    {
        using var p = new Probe();
        var bytes = new byte[4096];
        new Random(3).NextBytes(bytes);
        string model = p.Input("junk.onnx", bytes);
        p.Fails(p.Run(["decode", ProbeInputs.PromptCodes, "--codec-decoder", model, "--out", p.File("o.wav")]), 3, "junk.onnx");
    }

    [Test]
    public void SymbolTableLargerThanTheModelVocabulary()
    {
        ProbeInputs.RequireEspeak();
        using var p = new Probe();
        string table = p.Input("big.k2symbols", string.Join('\n', Enumerable.Range(0, 600).Select(i => $"s{i} {i}")) + "\n");
        var r = p.Run(["synth", "--checkpoint", ProbeInputs.TinyModel, "--symbols", table, "--codec-decoder", ProbeInputs.CodecDecoder,
            "--prompt-codes", ProbeInputs.PromptCodes, "--prompt-text", "Go.", "--text", "Hi.", "--out", p.File("o.wav")]);
        string error = p.Fails(r, 3, "603 symbols");   // 600 + <pad>, <bos>, <eos>
        Assert.That(error, Does.Contain("512 rows"), r.ToString());
    }

    [Test]
    public void GarbageSymbolTable()
    {
        using var p = new Probe();
        string table = p.Input("junk.k2symbols", [0x00, 0x01, 0xff, 0x0a, 0x41]);
        p.Fails(p.Run(["phonemize", "--symbols", table, "hello"]), 3, "junk.k2symbols");
    }
}
