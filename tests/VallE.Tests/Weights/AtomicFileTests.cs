using VallE.Tests.Support;
using VallE.Weights;
using VallE.Weights.IO;

namespace VallE.Tests.Weights;

/// <summary>How outputs are written: temp + rename for files, in place for devices, links followed, nothing left on failure.</summary>
public class AtomicFileTests
{
    [Test]
    public void FailedWriteLeavesTheTargetAndNoTemporaryFile()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("out.bin"), "old");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(dir.File("out.bin"), s =>
        {
            s.Write(new byte[1000]);
            throw new InvalidOperationException("midway");
        }));
        Assert.That(File.ReadAllText(dir.File("out.bin")), Is.EqualTo("old"));
        Assert.That(Directory.GetFiles(dir.Path), Has.Length.EqualTo(1));
    }

    [Test]
    public void ASymlinkIsFollowedAndKept()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("target.txt"), "old");
        File.CreateSymbolicLink(dir.File("link.txt"), dir.File("target.txt"));
        AtomicFile.WriteAllText(dir.File("link.txt"), "new");
        Assert.That(new FileInfo(dir.File("link.txt")).LinkTarget, Is.Not.Null, "the link is still a link");
        Assert.That(File.ReadAllText(dir.File("target.txt")), Is.EqualTo("new"));
    }

    [Test]
    public void CheckRefusesAnInputUnderAnotherName()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("in.txt"), "x");
        File.CreateSymbolicLink(dir.File("alias.txt"), dir.File("in.txt"));
        var e = Assert.Throws<InvalidInputException>(() => AtomicFile.Check(dir.File("alias.txt"), null, dir.File("in.txt")));
        Assert.That(e!.Message, Does.Contain("same file as the input"));
        Assert.DoesNotThrow(() => AtomicFile.Check(dir.File("other.txt"), dir.File("in.txt")));
        Assert.That(Directory.GetFiles(dir.Path), Has.Length.EqualTo(2), "Check leaves no probe file");
    }

    [Test]
    public void CheckNamesTheProblemBeforeAnyWork()
    {
        using var dir = new TempDir();
        Assert.That(Assert.Throws<InvalidInputException>(() => AtomicFile.Check(dir.File("missing/out.wav")))!.Message,
            Does.Contain("output directory does not exist"));
        Assert.That(Assert.Throws<InvalidInputException>(() => AtomicFile.Check(dir.Path))!.Message, Does.Contain("is a directory"));
        Assert.That(Assert.Throws<InvalidInputException>(() => AtomicFile.Check(dir.File(new string('x', 256))))!.Message,
            Does.Contain("256 bytes long"));
        string longest = dir.File(new string('x', 255));
        AtomicFile.WriteAllText(longest, "fits");
        Assert.That(File.ReadAllText(longest), Is.EqualTo("fits"));
    }

    [Test]
    public void CharacterDevicesAreWrittenInPlace()
    {
        if (FileIdentity.Of("/dev/null")?.Kind != FileKind.CharacterDevice) Assert.Ignore("no /dev/null character device here");
        AtomicFile.WriteAllText("/dev/null", "discarded");
        Assert.That(FileIdentity.Of("/dev/null")?.Kind, Is.EqualTo(FileKind.CharacterDevice));
    }
}
