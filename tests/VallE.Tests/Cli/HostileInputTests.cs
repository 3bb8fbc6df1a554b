using VallE.Tests.Models;
using VallE.Tests.Support;
using VallE.Weights;
using VallE.Weights.NumPy;

namespace VallE.Tests.Cli;

/// <summary>Bad user input reaches the user as one `valle: error:` line and exit 2 (usage) or 3 (input), never a trace.</summary>
public class HostileInputTests
{
    /// <summary>A converted tiny VALL-E folder whose <paramref name="poisoned"/> weight holds a NaN, plus valid inputs.</summary>
    private static string[] GenerateArgs(TempDir dir, string poisoned, float bad)
    {
        var config = InMemoryModels.Tiny();
        var tensors = InMemoryModels.StateDict(config);
        var values = tensors[poisoned].ToFloat32();
        values[5] = bad;
        tensors[poisoned] = InMemoryModels.FromFloats(poisoned, tensors[poisoned].Shape, values);
        var ordered = ModelLayout.Expected(config).ToDictionary(e => e.Name, e => tensors[e.Name]);
        using (var ckpt = InMemoryModels.Checkpoint(config, ordered)) CheckpointConverter.Convert(ckpt, dir.File("model"));
        Npy.WriteInt64(dir.File("text.npy"), [1, 5, 9, 2], 4);
        Npy.WriteInt64(dir.File("prompt.npy"), new long[4 * 8], 4, 8);
        return ["generate", "--checkpoint", dir.File("model"), "--text-tokens", dir.File("text.npy"),
            "--prompt-codes", dir.File("prompt.npy"), "--codes-out", dir.File("out.npy"), "--threads", "1", "--max-duration", "0.1"];
    }

    [TestCase(float.NaN)]
    [TestCase(float.PositiveInfinity)]
    public void NonFiniteWeightUnderInt8NamesTheTensor(float bad)
    {
        using var dir = new TempDir();
        const string poisoned = "ar_decoder.layers.1.linear1.weight";
        var r = CliRunner.Run([.. GenerateArgs(dir, poisoned, bad), "--weights-dtype", "int8"]);
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        Assert.That(r.Err, Does.Contain("valle: error:").And.Contain($"'{poisoned}'").And.Contain("int8"), r.ToString());
        Assert.That(File.Exists(dir.File("out.npy")), Is.False);
    }

    [Test]
    public void OutputPathThatIsADirectoryIsAnInputError()
    {
        using var dir = new TempDir();
        string[] args = GenerateArgs(dir, "ar_decoder.layers.1.linear1.weight", 0.5f);
        Directory.CreateDirectory(dir.File("out.npy"));
        var r = CliRunner.Run(args);
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        Assert.That(r.Err, Does.Contain("is a directory"), r.ToString());
        Assert.That(r.Err.Trim().Split('\n'), Has.Length.EqualTo(1), r.ToString());
    }

    [TestCase("-1")]
    [TestCase("100000")]
    public void AbsurdThreadCountsAreUsageErrors(string threads)
    {
        // 100000 worker threads used to abort the whole process (exit 134) before any message.
        using var dir = new TempDir();
        string[] args = GenerateArgs(dir, "ar_decoder.layers.1.linear1.weight", 0.5f);
        var r = CliRunner.Run([.. args[..^4], "--threads", threads]);
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(r.Err, Does.Contain("--threads " + threads), r.ToString());
        r = CliRunner.Run("bench", "--threads", threads, "--torch", "none");
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(r.Err, Does.Contain("--threads " + threads), r.ToString());
    }

    [Test]
    public void SymbolTableThatIsADirectoryIsAnInputError()
    {
        using var dir = new TempDir();
        var r = CliRunner.Run("phonemize", "hello", "--symbols", dir.Path);
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        Assert.That(r.Err, Does.Contain("is a directory"), r.ToString());
    }
}
