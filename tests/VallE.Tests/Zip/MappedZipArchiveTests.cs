using System.Text;
using VallE.Tests.Support;
using VallE.Weights;
using VallE.Weights.IO;

namespace VallE.Tests.Zip;

/// <summary>The zip reader on well-formed archives (stored, deflated, ZIP64) and on every kind of lie a zip can tell.</summary>
public class MappedZipArchiveTests
{
    private TempDir _tmp = null!;

    [SetUp] public void SetUp() => _tmp = TestPaths.CreateTempDir();
    [TearDown] public void TearDown() => _tmp.Dispose();

    private string Write(byte[] bytes, string name = "a.zip")
    {
        string path = _tmp.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static TestZip TwoEntries(bool zip64 = false) =>
        new TestZip { Zip64 = zip64 }.Add("archive/data.pkl", "hello pickle").Add("archive/data/0", new byte[256]);

    private InvalidInputException Rejects(byte[] bytes, string expectedFragment)
    {
        string path = Write(bytes);
        var e = Assert.Throws<InvalidInputException>(() => MappedZipArchive.Open(path).Dispose());
        Assert.That(e!.Message, Does.StartWith(path + ": "));
        Assert.That(e.Message, Does.Contain(expectedFragment));
        Assert.That(e.Message, Does.Not.Contain("\n"), "one-line message");
        return e;
    }

    [TestCase(false)]
    [TestCase(true)]
    public void ReadsStoredEntriesAsAlignedWindows(bool zip64)
    {
        var data = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var image = new TestZip { Zip64 = zip64 }.Add("archive/data.pkl", "hello pickle").Add("archive/data/0", data).Build();
        using var zip = MappedZipArchive.Open(Write(image.Bytes));
        Assert.That(zip.Entries.Select(e => e.Name), Is.EqualTo(new[] { "archive/data.pkl", "archive/data/0" }));
        Assert.That(Encoding.UTF8.GetString(zip.ReadAllBytes(zip.GetEntry("archive/data.pkl"), 100)), Is.EqualTo("hello pickle"));
        var entry = zip.GetEntry("archive/data/0");
        Assert.That(entry.DataOffset % 64, Is.EqualTo(0));
        var storage = zip.OpenStorage(entry, "data/0", DType.UInt8, 0);
        Assert.That(storage, Is.InstanceOf<NativeTensorStorage>());
        Assert.That(storage.Slice(0, 256).ToArray(), Is.EqualTo(data));
        zip.VerifyCrc(entry);

        // The test builder itself writes what the BCL's zip reader accepts (so these fixtures are real zips).
        using var bcl = new System.IO.Compression.ZipArchive(new MemoryStream(image.Bytes));
        Assert.That(bcl.Entries.Select(e => (e.FullName, e.Length)), Is.EqualTo(new[] { ("archive/data.pkl", 12L), ("archive/data/0", 256L) }));
    }

    [Test]
    public void InflatesDeflatedEntriesWithinTheirBound()
    {
        var data = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("abcdefgh", 1000)));
        var image = new TestZip().Add("archive/data/0", data, deflate: true).Build();
        using var zip = MappedZipArchive.Open(Write(image.Bytes));
        var entry = zip.GetEntry("archive/data/0");
        Assert.That(entry.IsStored, Is.False);
        Assert.That(zip.OpenStorage(entry, "data/0", DType.UInt8, 1 << 20).Slice(0, data.Length).ToArray(), Is.EqualTo(data));
        var e = Assert.Throws<InvalidInputException>(() => zip.ReadAllBytes(entry, 100));
        Assert.That(e!.Message, Does.Contain("archive/data/0").And.Contain("8000"));
    }

    [Test]
    public void RejectsEmptyFile() => Rejects([], "empty file");

    [Test]
    public void RejectsDirectory()
    {
        var e = Assert.Throws<InvalidInputException>(() => MappedZipArchive.Open(_tmp.Path));
        Assert.That(e!.Message, Does.Contain("is a directory"));
    }

    [Test]
    public void RejectsMissingFile()
    {
        var e = Assert.Throws<InvalidInputException>(() => MappedZipArchive.Open(_tmp.File("nope.pt")));
        Assert.That(e!.Message, Does.Contain("not found"));
    }

    [Test]
    public void RejectsNonZip() => Rejects(Encoding.UTF8.GetBytes("this is a text file, not an archive at all\n"), "not a zip archive");

    [Test]
    public void RejectsLegacyTorchPickleWithAHint() => Rejects([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19], "legacy torch.save");

    [TestCase(1)]
    [TestCase(10)]
    [TestCase(30)]
    public void RejectsTruncatedZip(int cut)
    {
        var bytes = TwoEntries().Build().Bytes;
        Rejects(bytes[..^cut], "truncated zip");
    }

    [Test]
    public void RejectsTruncationInsideTheData()
    {
        var image = TwoEntries().Build();
        // Keep the end records but drop bytes before them: every offset now points past where things are.
        var bytes = image.Bytes[..(image.LocalHeaders[1] + 40)].Concat(image.Bytes[image.CentralDirectory..]).ToArray();
        Rejects(bytes, "central directory");
    }

    [Test]
    public void RejectsCentralDirectoryOffsetPastEof()
    {
        var image = TwoEntries().Build();
        image.PatchEndU32(TestZip.EndCentralOffset, 0x7fff_0000);
        Rejects(image.Bytes, "central directory");
    }

    [Test]
    public void RejectsEntrySizePastEof()
    {
        var image = TwoEntries().Build();
        image.PatchCentralU32(1, TestZip.CentralCompressedSize, 0x7000_0000);
        image.PatchCentralU32(1, TestZip.CentralUncompressedSize, 0x7000_0000);
        Rejects(image.Bytes, "zip entry 'archive/data/0'");
    }

    [Test]
    public void RejectsZip64EntrySizePastEof()
    {
        var image = TwoEntries(zip64: true).Build();
        // The 64-bit sizes live in the central extra field (after the 46-byte header and the name).
        int extra = image.CentralHeaders[1] + 46 + "archive/data/0".Length + 4;
        BitConverter.TryWriteBytes(image.Bytes.AsSpan(extra), 5L << 40);      // uncompressed: 5 TB
        BitConverter.TryWriteBytes(image.Bytes.AsSpan(extra + 8), 5L << 40);  // compressed
        Rejects(image.Bytes, "zip entry 'archive/data/0'");
    }

    [Test]
    public void RejectsLocalOffsetPastEof()
    {
        var image = TwoEntries().Build();
        image.PatchCentralU32(1, TestZip.CentralLocalOffset, 0x7fff_fff0);
        Rejects(image.Bytes, "local header offset");
    }

    [Test]
    public void RejectsLocalHeaderNameMismatch()
    {
        var image = TwoEntries().Build();
        image.Bytes[image.LocalHeaders[1] + 30 + "archive/data/".Length] = (byte)'9'; // local says archive/data/9
        Rejects(image.Bytes, "local header names 'archive/data/9'");
    }

    [Test]
    public void RejectsLocalHeaderSizeMismatch()
    {
        var image = TwoEntries().Build();
        image.PatchLocalU32(1, TestZip.LocalCompressedSize, 255);
        Rejects(image.Bytes, "disagree with the central directory");
    }

    [Test]
    public void RejectsCentralEntryPointingAtNoLocalHeader()
    {
        var image = TwoEntries().Build();
        image.PatchCentralU32(1, TestZip.CentralLocalOffset, (uint)image.LocalHeaders[1] + 4);
        Rejects(image.Bytes, "no local header");
    }

    [Test]
    public void RejectsOverlappingEntries()
    {
        // A consistent lie: both headers of entry 0 claim it runs over entry 1's local header.
        var image = TwoEntries().Build();
        uint size = (uint)(image.LocalHeaders[1] - image.LocalHeaders[0]);
        image.PatchCentralU32(0, TestZip.CentralCompressedSize, size);
        image.PatchCentralU32(0, TestZip.CentralUncompressedSize, size);
        image.PatchLocalU32(0, TestZip.LocalCompressedSize, size);
        image.PatchLocalU32(0, TestZip.LocalUncompressedSize, size);
        Rejects(image.Bytes, "overlap");
    }

    [Test]
    public void RejectsTwoCentralEntriesSharingOneLocalHeader()
    {
        var image = new TestZip().Add("archive/data/0", new byte[64]).Add("archive/data/1", new byte[64]).Build();
        image.PatchCentralU32(1, TestZip.CentralLocalOffset, (uint)image.LocalHeaders[0]);
        Rejects(image.Bytes, "zip entry 'archive/data/1'");
    }

    [TestCase("../evil")]
    [TestCase("archive/../../etc/passwd")]
    [TestCase("/etc/passwd")]
    [TestCase("C:/windows")]
    [TestCase("archive\\data.pkl")]
    [TestCase("archive/./data.pkl")]
    [TestCase("archive//data.pkl")]
    [TestCase("archive/\u0001data")]
    public void RejectsUnsafeNames(string name) =>
        Rejects(new TestZip().Add(name, "x").Build().Bytes, "unsafe name");

    [Test]
    public void RejectsDuplicateNames() =>
        Rejects(new TestZip().Add("archive/data/0", "x").Add("archive/data/0", "y").Build().Bytes, "appears twice");

    [Test]
    public void RejectsEntryCountLargerThanTheDirectoryCanHold()
    {
        var image = TwoEntries().Build();
        image.PatchEndU16(TestZip.EndCount, 60000);
        image.PatchEndU16(TestZip.EndCount - 2, 60000);
        Rejects(image.Bytes, "claims 60000 entries");
    }

    [Test]
    public void RejectsEncryptedAndUnknownMethods()
    {
        var image = TwoEntries().Build();
        image.PatchCentralU16(0, TestZip.CentralFlags, 1);
        Rejects(image.Bytes, "encrypted");
        image = TwoEntries().Build();
        image.PatchCentralU16(0, 10, 12); // bzip2
        Rejects(image.Bytes, "compression method 12");
    }

    [Test]
    public void RejectsDeflateBombDeclaration()
    {
        var image = new TestZip().Add("archive/data/0", new byte[100], deflate: true).Build();
        image.PatchCentralU32(0, TestZip.CentralUncompressedSize, 0xFFFF_FFF0);
        Rejects(image.Bytes, "more than deflate can produce");
    }

    [Test]
    public void RejectsInflatedSizeThatDiffersFromTheDeclaration()
    {
        var image = new TestZip().Add("archive/data/0", new byte[100], deflate: true).Build();
        image.PatchCentralU32(0, TestZip.CentralUncompressedSize, 200);
        image.PatchLocalU32(0, TestZip.LocalUncompressedSize, 200);
        using var zip = MappedZipArchive.Open(Write(image.Bytes));
        var e = Assert.Throws<InvalidInputException>(() => zip.ReadAllBytes(zip.GetEntry("archive/data/0"), 1000));
        Assert.That(e!.Message, Does.Contain("does not match the declared 200"));
    }

    [Test]
    public void DetectsCrcMismatch()
    {
        var image = TwoEntries().Build();
        int data = image.LocalHeaders[0] + 30 + "archive/data.pkl".Length + BitConverter.ToUInt16(image.Bytes, image.LocalHeaders[0] + 28);
        image.Bytes[data] ^= 0xFF;
        using var zip = MappedZipArchive.Open(Write(image.Bytes));
        var e = Assert.Throws<InvalidInputException>(() => zip.ReadAllBytes(zip.GetEntry("archive/data.pkl"), 100));
        Assert.That(e!.Message, Does.Contain("CRC-32 mismatch"));
    }

    [Test]
    public void Crc32MatchesKnownVector() =>
        Assert.That(Crc32.Compute(Encoding.ASCII.GetBytes("123456789")), Is.EqualTo(0xCBF43926u));
}
