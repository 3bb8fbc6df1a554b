using VallE.Tests.Support;
using VallE.Weights.NumPy;

namespace VallE.Tests.Engine;

/// <summary>
/// <c>valle generate --device</c>: <c>auto</c> falls back to the CPU with one log line, <c>cuda</c> is exit 3 with the
/// reason when it cannot run (no GPU here; on a GPU machine VALL-E X is refused by the CUDA engine), a bad value is
/// exit 2. The VALL-E X fixture gives the same answers with and without a GPU.
/// </summary>
public sealed class GenerateDeviceTests
{
    private static string[] Args(string dir, string output, string device) =>
    [
        "generate", "--checkpoint", Path.Combine(dir, "checkpoint.pt"),
        "--text-tokens", Path.Combine(dir, "text_tokens.npy"), "--prompt-codes", Path.Combine(dir, "prompt_codes.npy"),
        "--codes-out", output, "--nhead", "4", "--enroll-tokens", "5", "--prompt-language", "zh", "--text-language", "en",
        "--top-k", "1", "--threads", "1", "--device", device,
    ];

    [Test]
    public void AutoFallsBackToTheCpuWithOneLineAndSameCodes()
    {
        string dir = TestPaths.RequireShared("valle", "vallex-tiny");
        using var tmp = TestPaths.CreateTempDir();
        var r = CliRunner.Run(Args(dir, tmp.File("out.npy"), "auto"));
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Err.Split('\n').Count(l => l.Contains("running on the CPU")), Is.EqualTo(1), r.ToString());
        Assert.That(Npy.Read(tmp.File("out.npy")).ToInt64(), Is.EqualTo(Npy.Read(Path.Combine(dir, "expected_codes.npy")).ToInt64()));
    }

    [Test]
    public void CudaThatCannotRunIsExit3WithTheReasonAndNoOutput()
    {
        string dir = TestPaths.RequireShared("valle", "vallex-tiny");
        using var tmp = TestPaths.CreateTempDir();
        var r = CliRunner.Run(Args(dir, tmp.File("out.npy"), "cuda"));
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        Assert.That(r.Err, Does.Contain("--device cuda:"));
        Assert.That(File.Exists(tmp.File("out.npy")), Is.False);
    }

    [Test]
    public void UnknownDeviceAndCudaContinualAreUsageErrors()
    {
        string dir = TestPaths.RequireShared("valle", "vallex-tiny");
        using var tmp = TestPaths.CreateTempDir();
        var r = CliRunner.Run(Args(dir, tmp.File("out.npy"), "tpu"));
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(r.Err, Does.Contain("--device must be auto, cpu or cuda"));
        r = CliRunner.Run([.. Args(dir, tmp.File("out.npy"), "cuda"), "--continual"]);
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
    }
}
