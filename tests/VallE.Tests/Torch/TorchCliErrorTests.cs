using VallE.Tests.Pickle;
using VallE.Tests.Support;
using VallE.Tests.Zip;

namespace VallE.Tests.Torch;

/// <summary>Hostile or broken .pt files reach the user as exit code 3 and one line: <c>valle: error: path: reason</c>.</summary>
public class TorchCliErrorTests
{
    private static string Write(TempDir tmp, string name, byte[] bytes)
    {
        string path = tmp.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static void AssertExit3(string path, string fragment)
    {
        var r = CliRunner.Run("inspect", path);
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        Assert.That(r.Err.Trim(), Does.StartWith($"valle: error: {path}: "));
        Assert.That(r.Err, Does.Contain(fragment));
        Assert.That(r.Err.Trim(), Does.Not.Contain("\n"), "one line");
    }

    [Test]
    public void RefusedGlobal()
    {
        using var tmp = TestPaths.CreateTempDir();
        var pickle = new PickleBuilder().Proto(2).Global("posix", "system").Str("touch /tmp/pwned").Tuple1().Reduce().Stop().Bytes;
        string path = Write(tmp, "evil.pt", new TestZip().Add("archive/data.pkl", pickle).Build().Bytes);
        AssertExit3(path, "data.pkl: refusing global 'posix.system' (checkpoints never need it)");
    }

    [Test]
    public void StorageSizeLie()
    {
        using var tmp = TestPaths.CreateTempDir();
        var pickle = new PickleBuilder().Proto(2).EmptyDict().Str("model").EmptyDict().Str("w")
            .Tensor("0", 1000, 0, [1000], [1]).SetItem().SetItem().Stop().Bytes;
        string path = Write(tmp, "lie.pt", new TestZip().Add("archive/data.pkl", pickle).Add("archive/data/0", new byte[16]).Build().Bytes);
        AssertExit3(path, "storage declares 1000 f32 elements (4000 bytes) but the entry holds 16 bytes");
    }

    [Test]
    public void TruncatedAndNonZipFiles()
    {
        using var tmp = TestPaths.CreateTempDir();
        var good = new TestZip().Add("archive/data.pkl", new PickleBuilder().Proto(2).None().Stop().Bytes).Build().Bytes;
        AssertExit3(Write(tmp, "cut.pt", good[..^10]), "truncated zip");
        AssertExit3(Write(tmp, "empty.pt", []), "empty file");
        AssertExit3(Write(tmp, "text.pt", "hello"u8.ToArray()), "not a zip archive");
    }
}
