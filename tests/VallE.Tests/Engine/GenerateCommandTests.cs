using VallE.Tests.Support;
using VallE.Weights.NumPy;

namespace VallE.Tests.Engine;

/// <summary><c>valle generate</c>: the CLI contract (files in, codes out, exit codes, summary line).</summary>
public sealed class GenerateCommandTests
{
    private static string[] VallEXArgs(string dir, string output, string topK = "1") =>
    [
        "generate", "--checkpoint", Path.Combine(dir, "checkpoint.pt"),
        "--text-tokens", Path.Combine(dir, "text_tokens.npy"), "--prompt-codes", Path.Combine(dir, "prompt_codes.npy"),
        "--codes-out", output, "--nhead", "4", "--enroll-tokens", "5", "--prompt-language", "zh", "--text-language", "en",
        "--top-k", topK, "--threads", "1",
    ];

    [Test]
    public void VallEXGreedyWritesUpstreamCodes()
    {
        string dir = TestPaths.RequireShared("valle", "vallex-tiny");
        using var tmp = TestPaths.CreateTempDir();
        var r = CliRunner.Run(VallEXArgs(dir, tmp.File("out.npy")));
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        var expected = Npy.Read(Path.Combine(dir, "expected_codes.npy"));
        var actual = Npy.Read(tmp.File("out.npy"));
        Assert.That(actual.Type, Is.EqualTo(NpyType.Int64));
        Assert.That(actual.Shape, Is.EqualTo(expected.Shape));
        Assert.That(actual.ToInt64(), Is.EqualTo(expected.ToInt64()));
        Assert.That(r.Err, Does.Match(@"generated 192 frames .*AR [0-9.]+ ms/token .*NAR [0-9]+ ms"));
        Assert.That(r.Err.Trim().Split('\n').Count(l => l.Contains("generated")), Is.EqualTo(1));
    }

    [Test]
    public void LifeitengCheckpointAndContinualRunFromThePtFile()
    {
        string dir = TestPaths.RequireShared("valle", "valle-tiny");
        using var tmp = TestPaths.CreateTempDir();
        string[] common = ["generate", "--checkpoint", Path.Combine(dir, "checkpoint.pt"), "--text-tokens", Path.Combine(dir, "text_tokens.npy"), "--threads", "1"];
        var r = CliRunner.Run([.. common, "--prompt-codes", Path.Combine(dir, "prompt_codes.npy"), "--codes-out", tmp.File("a.npy"), "--top-k", "1"]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(Npy.Read(tmp.File("a.npy")).Shape[1], Is.EqualTo(8));
        // continual keeps codebook 0 of the second half of its input.
        var input = Npy.Read(Path.Combine(dir, "continual_input_codes.npy"));
        r = CliRunner.Run([.. common, "--prompt-codes", Path.Combine(dir, "continual_input_codes.npy"), "--codes-out", tmp.File("c.npy"), "--continual"]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        var output = Npy.Read(tmp.File("c.npy"));
        Assert.That(output.Shape, Is.EqualTo(Npy.Read(Path.Combine(dir, "expected_continual_codes.npy")).Shape));
        long frames = input.Shape[0], half = Math.Min(frames / 2, 225);
        var inFlat = input.ToInt64();
        var outFlat = output.ToInt64();
        for (long t = 0; t < output.Shape[0]; t++) Assert.That(outFlat[t * 8], Is.EqualTo(inFlat[(half + t) * 8]));
    }

    [Test]
    public void SampledGenerationIsReproducibleWithASeed()
    {
        string dir = TestPaths.RequireShared("valle", "vallex-tiny");
        using var tmp = TestPaths.CreateTempDir();
        string[] args = [.. VallEXArgs(dir, tmp.File("a.npy"), topK: "40"), "--temperature", "0.8", "--seed", "9", "--max-duration", "0.5"];
        var a = CliRunner.Run(args);
        Assert.That(a.ExitCode, Is.EqualTo(0), a.ToString());
        var b = CliRunner.Run([.. args.Select(x => x == tmp.File("a.npy") ? tmp.File("b.npy") : x)]);
        Assert.That(b.ExitCode, Is.EqualTo(0), b.ToString());
        var first = Npy.Read(tmp.File("a.npy"));
        Assert.That(first.Shape[0], Is.LessThanOrEqualTo(38), "--max-duration 0.5 s = 38 frames at most");
        Assert.That(Npy.Read(tmp.File("b.npy")).ToInt64(), Is.EqualTo(first.ToInt64()));
    }

    [Test]
    public void VallEXWithoutPromptAndWithPerTokenLanguages()
    {
        string dir = TestPaths.RequireShared("valle", "vallex-tiny");
        using var tmp = TestPaths.CreateTempDir();
        Npy.WriteInt64(tmp.File("empty.npy"), ReadOnlySpan<long>.Empty, 1, 0, 8); // a VALL-E X "no prompt" [1, 0, 8]
        int tokens = (int)Npy.Read(Path.Combine(dir, "text_tokens.npy")).Shape[0];
        var args = VallEXArgs(dir, tmp.File("out.npy")).ToList();
        args[args.IndexOf("--prompt-codes") + 1] = tmp.File("empty.npy");
        args[args.IndexOf("--enroll-tokens") + 1] = "0";
        args[args.IndexOf("--text-language") + 1] = string.Join(',', Enumerable.Range(0, tokens).Select(i => i < tokens / 2 ? "en" : "ja"));
        var r = CliRunner.Run([.. args, "--max-duration", "0.4"]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(Npy.Read(tmp.File("out.npy")).Shape, Is.EqualTo(new long[] { 30, 8 }));
    }

    /// <summary>The engine says what it lacks in its own terms; the CLI names the flag that supplies it.</summary>
    [Test]
    public void VallEXWithoutEnrollTokensNamesTheFlag()
    {
        string dir = TestPaths.RequireShared("valle", "vallex-tiny");
        using var tmp = TestPaths.CreateTempDir();
        var args = VallEXArgs(dir, tmp.File("out.npy")).ToList();
        args.RemoveRange(args.IndexOf("--enroll-tokens"), 2);
        var r = CliRunner.Run([.. args, "--max-duration", "0.4"]);
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        Assert.That(r.Err, Does.Contain("needs the number of enrolled (prompt transcript) text tokens (--enroll-tokens)"));
    }

    [TestCase("text-out-of-range")]
    [TestCase("codes-7-codebooks")]
    [TestCase("code-1024")]
    [TestCase("negative-code")]
    [TestCase("codes-1d")]
    [TestCase("unknown-language")]
    [TestCase("enroll-past-text")]
    public void BadInputsExitWith3AndOneLine(string kind)
    {
        string dir = TestPaths.RequireShared("valle", "vallex-tiny");
        using var tmp = TestPaths.CreateTempDir();
        var args = VallEXArgs(dir, tmp.File("out.npy")).ToList();
        var text = Npy.Read(Path.Combine(dir, "text_tokens.npy")).ToInt64();
        var codes = Npy.Read(Path.Combine(dir, "prompt_codes.npy")).ToInt64();
        int frames = codes.Length / 8;
        void Replace(string option, string value) => args[args.IndexOf(option) + 1] = value;
        switch (kind)
        {
            case "text-out-of-range":
                text[3] = 100_000;
                Npy.WriteInt64(tmp.File("t.npy"), text, text.Length);
                Replace("--text-tokens", tmp.File("t.npy"));
                break;
            case "codes-7-codebooks":
                Npy.WriteInt64(tmp.File("c.npy"), codes.AsSpan(0, frames * 7), frames, 7);
                Replace("--prompt-codes", tmp.File("c.npy"));
                break;
            case "code-1024":
            case "negative-code":
                codes[17] = kind == "code-1024" ? 1024 : -1;
                Npy.WriteInt64(tmp.File("c.npy"), codes, frames, 8);
                Replace("--prompt-codes", tmp.File("c.npy"));
                break;
            case "codes-1d":
                Npy.WriteInt64(tmp.File("c.npy"), codes, codes.Length);
                Replace("--prompt-codes", tmp.File("c.npy"));
                break;
            case "unknown-language":
                Replace("--text-language", "fr");
                break;
            case "enroll-past-text":
                Replace("--enroll-tokens", "99");
                break;
        }
        var r = CliRunner.Run([.. args]);
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        // One error line, the last thing printed (the --nhead override note may come before it).
        var lines = r.Err.Trim().Split('\n');
        Assert.That(lines[^1], Does.StartWith("valle: error: "), r.ToString());
        Assert.That(lines.Count(l => l.StartsWith("valle: error")), Is.EqualTo(1), r.ToString());
        Assert.That(File.Exists(tmp.File("out.npy")), Is.False, "nothing written on error");
    }

    [TestCase("--temperature", "-1")]
    [TestCase("--top-p", "1.5")]
    [TestCase("--weights-dtype", "f16")]
    [TestCase("--max-duration", "-1")]
    [TestCase("--threads", "-2")]
    public void BadOptionsAreUsageErrors(string option, string value)
    {
        string dir = TestPaths.RequireShared("valle", "vallex-tiny");
        using var tmp = TestPaths.CreateTempDir();
        var r = CliRunner.Run([.. VallEXArgs(dir, tmp.File("out.npy")), option, value]);
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
    }

    [Test]
    public void MissingRequiredOptionIsUsageError()
    {
        var r = CliRunner.Run("generate", "--text-tokens", "x.npy");
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
    }
}
