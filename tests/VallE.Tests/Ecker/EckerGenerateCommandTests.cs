using VallE.Runtime.Codec;
using VallE.Runtime.Models.Ecker;
using VallE.Runtime.Sampling;
using VallE.Tests.Support;
using VallE.Weights;
using VallE.Weights.NumPy;

namespace VallE.Tests.Ecker;

/// <summary>
/// <c>valle generate --checkpoint X.sft</c>: an e-c-k-e-r/vall-e checkpoint goes to <see cref="EckerModel"/>; both
/// fixtures reproduce upstream's greedy codes through the CLI; seeded sampling is reproducible; exit codes.
/// </summary>
public sealed class EckerGenerateCommandTests
{
    private static string Fixture(string name, string file) => TestPaths.RequireShared("ecker", name, file);

    private static string[] Args(string name, string output, params string[] extra) =>
    [
        "generate", "--checkpoint", Fixture(name, "fp32.sft"), "--text-tokens", Fixture(name, "text.npy"),
        "--prompt-codes", Fixture(name, "prompt_codes.npy"), "--codes-out", output, "--threads", "2", .. extra,
    ];

    private static long[] Expected(string name) => Npy.Read(Fixture(name, "expected_codes.npy")).ToInt64();

    private static long[] Written(string path, out long[] shape)
    {
        var a = Npy.Read(path);
        Assert.That(a.Type, Is.EqualTo(NpyType.Int64));
        shape = a.Shape;
        return a.ToInt64();
    }

    [Test]
    public void ArNarFixtureGreedyThroughTheCli()
    {
        using var tmp = TestPaths.CreateTempDir();
        var r = CliRunner.Run(Args("arnar_d64", tmp.File("out.npy"), "--temperature", "0", "--text-language", "en"));
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        var codes = Written(tmp.File("out.npy"), out var shape);
        Assert.That(shape, Is.EqualTo(new long[] { 6, 8 }));
        Assert.That(codes, Is.EqualTo(Expected("arnar_d64")));
        Assert.That(r.Err, Does.Match(@"generated 6 frames \(0\.08 s, e-c-k-e-r/vall-e ar\+nar\) in [0-9]+ ms"));
    }

    [Test]
    public void GreedyByTopKOneEqualsTheArgmaxPath()
    {
        // --top-k 1 goes through the TokenSampler (greedy branch), --temperature 0 too; both give the argmax codes.
        using var tmp = TestPaths.CreateTempDir();
        var r = CliRunner.Run(Args("arnar_d64", tmp.File("out.npy"), "--top-k", "1", "--seed", "3", "--mode", "ar+nar"));
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(Written(tmp.File("out.npy"), out _), Is.EqualTo(Expected("arnar_d64")));
    }

    [Test]
    public void NarLenFixtureGreedyThroughTheCli()
    {
        using var tmp = TestPaths.CreateTempDir();
        var r = CliRunner.Run(Args("narlen_d96", tmp.File("out.npy"),
            "--mode", "nar-len", "--length", "16", "--demask-steps", "8", "--text-language", "2", "--temperature", "0"));
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        var codes = Written(tmp.File("out.npy"), out var shape);
        Assert.That(shape, Is.EqualTo(new long[] { 16, 8 }));
        Assert.That(codes, Is.EqualTo(Expected("narlen_d96")));
        Assert.That(r.Err, Does.Contain("e-c-k-e-r/vall-e nar-len"));
    }

    /// <summary>The issue's CLI contract: --text-language as a name, --cfg-strength / --cfg-rescale (their defaults here),
    /// --max-frames capping the frames (every family).</summary>
    [Test]
    public void ContractFlags()
    {
        using var tmp = TestPaths.CreateTempDir();
        var narLen = CliRunner.Run(Args("narlen_d96", tmp.File("a.npy"), "--mode", "nar-len", "--length", "16", "--demask-steps", "8",
            "--text-language", "de", "--cfg-strength", "2.5", "--cfg-rescale", "0.75", "--temperature", "0"));
        Assert.That(narLen.ExitCode, Is.EqualTo(0), narLen.ToString());
        Assert.That(Written(tmp.File("a.npy"), out _), Is.EqualTo(Expected("narlen_d96")), "de is id 2, as the fixture");

        var capped = CliRunner.Run(Args("arnar_d64", tmp.File("b.npy"), "--temperature", "0", "--max-frames", "3"));
        Assert.That(capped.ExitCode, Is.EqualTo(0), capped.ToString());
        Assert.That(Written(tmp.File("b.npy"), out var shape), Is.EqualTo(Expected("arnar_d64")[..24]));
        Assert.That(shape, Is.EqualTo(new long[] { 3, 8 }));

        string dir = TestPaths.RequireShared("valle", "valle-tiny");
        var valle = CliRunner.Run(["generate", "--checkpoint", Path.Combine(dir, "checkpoint.pt"), "--text-tokens", Path.Combine(dir, "text_tokens.npy"),
            "--prompt-codes", Path.Combine(dir, "prompt_codes.npy"), "--codes-out", tmp.File("c.npy"), "--top-k", "1", "--max-frames", "5"]);
        Assert.That(valle.ExitCode, Is.EqualTo(0), valle.ToString());
        Written(tmp.File("c.npy"), out var valleShape);
        Assert.That(valleShape, Is.EqualTo(new long[] { 5, 8 }));

        var both = CliRunner.Run(Args("arnar_d64", tmp.File("d.npy"), "--max-frames", "3", "--max-duration", "1"));
        Assert.That(both.ExitCode, Is.EqualTo(2), both.ToString());
        var cfgOutside = CliRunner.Run(Args("arnar_d64", tmp.File("e.npy"), "--cfg-strength", "3"));
        Assert.That(cfgOutside.ExitCode, Is.EqualTo(2), cfgOutside.ToString());
        var badLanguage = CliRunner.Run(Args("arnar_d64", tmp.File("f.npy"), "--text-language", "xx"));
        Assert.That(badLanguage.ExitCode, Is.EqualTo(2), badLanguage.ToString());
    }

    [Test]
    public void SeededSamplingIsReproducible()
    {
        using var tmp = TestPaths.CreateTempDir();
        string[] sampled = ["--temperature", "1.0", "--top-k", "64", "--top-p", "0.95", "--min-p", "0.01", "--repetition-penalty", "1.2",
            "--repetition-penalty-decay", "0.5", "--length-penalty", "0.1", "--nar-temperature", "0.7", "--min-nar-temperature", "0.2",
            "--max-duration", "0.4"];
        var a = CliRunner.Run(Args("arnar_d64", tmp.File("a.npy"), [.. sampled, "--seed", "11"]));
        var b = CliRunner.Run(Args("arnar_d64", tmp.File("b.npy"), [.. sampled, "--seed", "11"]));
        var c = CliRunner.Run(Args("arnar_d64", tmp.File("c.npy"), [.. sampled, "--seed", "12"]));
        Assert.That((a.ExitCode, b.ExitCode, c.ExitCode), Is.EqualTo((0, 0, 0)), $"{a}\n{b}\n{c}");
        var ca = Written(tmp.File("a.npy"), out var sa);
        Assert.That(Written(tmp.File("b.npy"), out var sb), Is.EqualTo(ca));
        Assert.That(sb, Is.EqualTo(sa));
        Assert.That(sa[0], Is.LessThanOrEqualTo(30), "--max-duration 0.4 caps the AR at 30 frames");
        var cc = Written(tmp.File("c.npy"), out _);
        Assert.That(cc, Is.Not.EqualTo(ca), "another seed draws other codes (temperature 1 over 1025 logits)");
    }

    [Test]
    public void ModelSamplingGreedyOptionsEqualArgmaxAndSeedsReproduce()
    {
        var text = Npy.Read(Fixture("arnar_d64", "text.npy")).ToInt64();
        var p = Npy.Read(Fixture("arnar_d64", "prompt_codes.npy"));
        var request = new EckerRequest
        {
            PhonemeTokens = text,
            PromptCodes = new AudioCodes(p.ToInt64(), (int)p.Shape[0], (int)p.Shape[1]),
            MaxDuration = 20,
        };
        using var ckpt = ModelCheckpoint.Open(Fixture("arnar_d64", "fp32.sft"));
        using var model = EckerModel.Load(ckpt, threads: 2);
        var argmax = model.Generate(request).Span.ToArray();
        Assert.That(argmax, Is.EqualTo(Expected("arnar_d64")));
        // Greedy through the sampler (temperature 0, every filter on) is the argmax path.
        var greedy = new EckerSamplingOptions { ArTemperature = 0f, TopK = 5, TopP = 0.5f, MinP = 0.2f, Seed = 5 };
        Assert.That(model.Generate(request with { Sampling = greedy }).Span.ToArray(), Is.EqualTo(argmax));
        Assert.That(model.Generate(request with { Sampling = EckerSamplingOptions.Greedy }).Span.ToArray(), Is.EqualTo(argmax));

        var sampled = new EckerSamplingOptions { ArTemperature = 1f, NarTemperature = 0.5f, TopK = 100, Seed = 21 };
        var first = model.Generate(request with { Sampling = sampled });
        var again = model.Generate(request with { Sampling = sampled });
        Assert.That(again.Span.ToArray(), Is.EqualTo(first.Span.ToArray()));
        // The NAR temperature alone changes levels 1.. only: level 0 stays the AR's.
        var narOnly = model.Generate(request with { Sampling = sampled with { ArTemperature = 0f, NarTemperature = 1f } });
        Assert.That(narOnly.Frames, Is.EqualTo(6));
        for (int t = 0; t < narOnly.Frames; t++) Assert.That(narOnly[t, 0], Is.EqualTo(argmax[t * 8]));
        Assert.That(narOnly.Span.ToArray(), Is.Not.EqualTo(argmax));
    }

    [Test]
    public void BadInputsAndOptionsGiveTheirExitCodes()
    {
        using var tmp = TestPaths.CreateTempDir();
        string o = tmp.File("out.npy");
        Assert.That(CliRunner.Run(Args("arnar_d64", o, "--mode", "nar-len")).ExitCode, Is.EqualTo(2), "no len capability");
        Assert.That(CliRunner.Run(Args("arnar_d64", o, "--mode", "ar")).ExitCode, Is.EqualTo(2));
        Assert.That(CliRunner.Run(Args("arnar_d64", o, "--length", "5")).ExitCode, Is.EqualTo(2), "--length is nar-len's");
        Assert.That(CliRunner.Run(Args("arnar_d64", o, "--enroll-tokens", "3")).ExitCode, Is.EqualTo(2));
        Assert.That(CliRunner.Run(Args("arnar_d64", o, "--nar-temperature", "-1")).ExitCode, Is.EqualTo(2));
        Assert.That(CliRunner.Run(Args("narlen_d96", o, "--mode", "nar-len", "--demask-steps", "0")).ExitCode, Is.EqualTo(2));
        var lang = CliRunner.Run(Args("arnar_d64", o, "--text-language", "9", "--temperature", "0"));
        Assert.That(lang.ExitCode, Is.EqualTo(3), lang.ToString());
        Assert.That(lang.Err, Does.Contain("--text-language"));

        var bad = new long[] { 1, 999, 2 };
        Npy.WriteInt64(tmp.File("bad.npy"), bad, 3);
        string[] args = Args("arnar_d64", o, "--temperature", "0");
        args[Array.IndexOf(args, "--text-tokens") + 1] = tmp.File("bad.npy");
        var r = CliRunner.Run(args);
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        Assert.That(r.Err, Does.Contain("phoneme token 999"));
        Assert.That(File.Exists(o), Is.False);
    }

    /// <summary>Upstream's sampler flags: bad values and options upstream does not apply are usage errors (exit 2), before loading.</summary>
    [Test]
    public void SamplerFlagRefusals()
    {
        using var tmp = TestPaths.CreateTempDir();
        string o = tmp.File("out.npy");
        foreach (var (args, message) in new (string[], string)[]
                 {
                     (["--repetition-window", "4"], "--repetition-window is a VALL-E option"),
                     (["--repetition-penalty", "0"], "--repetition-penalty 0 must be a finite number > 0"),
                     (["--top-p", "1.5"], "--top-p 1.5 must be in [0, 1]"),
                     (["--min-p", "2"], "--min-p 2 must be in [0, 1]"),
                     (["--temperature", "-0.5"], "--temperature -0.5 must be a finite number >= 0"),
                     (["--nar-temperature", "-1"], "--nar-temperature -1 must be a finite number >= 0"),
                     (["--min-ar-temperature", "-0.1"], "--min-ar-temperature -0.1 must be a finite number >= 0"),
                     (["--min-nar-temperature", "-2"], "--min-nar-temperature -2 must be a finite number >= 0"),
                 })
        {
            var r = CliRunner.Run(Args("arnar_d64", o, args));
            Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
            Assert.That(r.Err, Does.Contain(message));
        }
        foreach (var (args, message) in new (string[], string)[]
                 {
                     (["--repetition-penalty", "1.2"], "--repetition-penalty 1.2 does not apply to mode nar-len"),
                     (["--repetition-penalty-decay", "0.5"], "--repetition-penalty-decay does not apply to mode nar-len"),
                     (["--length-penalty", "0.5"], "--length-penalty applies to the AR only"),
                 })
        {
            var r = CliRunner.Run(Args("narlen_d96", o, ["--mode", "nar-len", "--length", "16", .. args]));
            Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
            Assert.That(r.Err, Does.Contain(message));
        }
        Assert.That(File.Exists(o), Is.False);

        string dir = TestPaths.RequireShared("valle", "valle-tiny");
        foreach (string flag in new[] { "--length-penalty", "--repetition-penalty-decay", "--min-ar-temperature", "--min-nar-temperature" })
        {
            var r = CliRunner.Run(["generate", "--checkpoint", Path.Combine(dir, "checkpoint.pt"), "--text-tokens", Path.Combine(dir, "text_tokens.npy"),
                "--prompt-codes", Path.Combine(dir, "prompt_codes.npy"), "--codes-out", o, flag, "0.5"]);
            Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
            Assert.That(r.Err, Does.Contain($"{flag} is an e-c-k-e-r/vall-e option"));
        }
    }

    /// <summary>NAR-len samples its demasking as upstream (the AR temperature, annealed to 0 at the last step): seeded, reproducible.</summary>
    [Test]
    public void NarLenSamplingIsSeededAndTemperatureZeroStaysGreedy()
    {
        using var tmp = TestPaths.CreateTempDir();
        string[] narLen = ["--mode", "nar-len", "--length", "16", "--demask-steps", "8", "--text-language", "de", "--top-k", "50", "--min-p", "0.05"];
        var a = CliRunner.Run(Args("narlen_d96", tmp.File("a.npy"), [.. narLen, "--seed", "5", "--min-ar-temperature", "0.5"]));
        var b = CliRunner.Run(Args("narlen_d96", tmp.File("b.npy"), [.. narLen, "--seed", "5", "--min-ar-temperature", "0.5"]));
        var greedy = CliRunner.Run(Args("narlen_d96", tmp.File("g.npy"), [.. narLen, "--temperature", "0"]));
        Assert.That((a.ExitCode, b.ExitCode, greedy.ExitCode), Is.EqualTo((0, 0, 0)), $"{a}\n{b}\n{greedy}");
        var codes = Written(tmp.File("a.npy"), out _);
        Assert.That(Written(tmp.File("b.npy"), out _), Is.EqualTo(codes));
        Assert.That(codes, Is.Not.EqualTo(Expected("narlen_d96")), "temperature 1 (the CLI default) samples the demasking");
        // top-k / min-p never remove the argmax, and the score's renormalisation did not change the greedy fixture's order.
        Assert.That(Written(tmp.File("g.npy"), out _), Is.EqualTo(Expected("narlen_d96")));
    }

    [Test]
    public void EckerOptionsOnAVallECheckpointAreUsageErrors()
    {
        string dir = TestPaths.RequireShared("valle", "valle-tiny");
        using var tmp = TestPaths.CreateTempDir();
        var r = CliRunner.Run(["generate", "--checkpoint", Path.Combine(dir, "checkpoint.pt"), "--text-tokens", Path.Combine(dir, "text_tokens.npy"),
            "--prompt-codes", Path.Combine(dir, "prompt_codes.npy"), "--codes-out", tmp.File("o.npy"), "--mode", "ar+nar"]);
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(r.Err, Does.Contain("--mode is an e-c-k-e-r/vall-e option"));
    }
}
