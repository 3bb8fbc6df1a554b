using VallE.Tests.Support;
using VallE.Weights;
using VallE.Weights.IO;

namespace VallE.Tests.Zip;

/// <summary>
/// ZIP64 fields set to values at or past 2^63 (they are read as unsigned 64-bit numbers): sums and products with
/// them must not wrap, and every one ends in an <see cref="InvalidInputException"/>.
/// </summary>
public class ZipOverflowTests
{
    private const string Name = "archive/data/0";

    private static TestZip.Image Zip64(bool deflate) =>
        new TestZip { Zip64 = true }.Add("archive/data.pkl", "hello pickle").Add(Name, new byte[256], deflate).Build();

    /// <summary>Offset of the central ZIP64 extra field's values (uncompressed, compressed, local offset) of entry 1.</summary>
    private static int Extra(TestZip.Image image) => image.CentralHeaders[1] + 46 + Name.Length + 4;

    /// <summary>The ZIP64 end record sits right before its 20-byte locator, which sits right before the end record.</summary>
    private static int Zip64End(TestZip.Image image) => image.EndRecord - 20 - 56;

    private static string Rejects(byte[] bytes)
    {
        using var tmp = TestPaths.CreateTempDir();
        string path = tmp.File("z.zip");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidInputException>(() => MappedZipArchive.Open(path).Dispose());
        Assert.That(e!.Message, Does.StartWith(path + ": ").And.Not.Contain("\n"));
        return e.Message;
    }

    private static void Put(TestZip.Image image, int at, ulong value) => BitConverter.TryWriteBytes(image.Bytes.AsSpan(at), value);

    [TestCase((ulong)long.MaxValue)]
    [TestCase(ulong.MaxValue)]
    public void DeflatedCompressedSizeNearTwoToThe63(ulong size)
    {
        // csize + 1 used to wrap here; the entry must simply be too large for the file.
        var image = Zip64(deflate: true);
        Put(image, Extra(image) + 8, size);
        Assert.That(Rejects(image.Bytes), Does.Contain($"zip entry '{Name}': {long.MaxValue} bytes at offset").And.Contain("run past the entry area"));
    }

    [Test]
    public void DeflatedUncompressedSizeNearTwoToThe63()
    {
        var image = Zip64(deflate: true);
        Put(image, Extra(image), ulong.MaxValue);
        Assert.That(Rejects(image.Bytes), Does.Contain("more than deflate can produce"));
    }

    [Test]
    public void StoredSizesNearTwoToThe63()
    {
        var image = Zip64(deflate: false);
        Put(image, Extra(image), long.MaxValue);
        Put(image, Extra(image) + 8, long.MaxValue);
        Assert.That(Rejects(image.Bytes), Does.Contain("run past the entry area"));
    }

    [Test]
    public void LocalHeaderOffsetNearTwoToThe63()
    {
        var image = Zip64(deflate: false);
        Put(image, Extra(image) + 16, ulong.MaxValue - 3);
        Assert.That(Rejects(image.Bytes), Does.Contain("local header offset"));
    }

    [Test]
    public void EntryCountNearTwoToThe63()
    {
        var image = Zip64(deflate: false);
        Put(image, Zip64End(image) + 32, ulong.MaxValue);
        Assert.That(Rejects(image.Bytes), Does.Contain($"central directory claims {long.MaxValue} entries"));
    }

    [TestCase(40, 1)]   // size
    [TestCase(48, 1)]   // offset
    [TestCase(40, 48)]  // both
    public void CentralDirectorySizeAndOffsetNearTwoToThe63(int field, int other)
    {
        var image = Zip64(deflate: false);
        Put(image, Zip64End(image) + field, long.MaxValue);
        if (other != 1) Put(image, Zip64End(image) + other, long.MaxValue);
        Assert.That(Rejects(image.Bytes), Does.Contain("central directory"));
    }

    [Test]
    public void Zip64EndRecordOffsetNearTwoToThe63()
    {
        var image = Zip64(deflate: false);
        Put(image, image.EndRecord - 20 + 8, ulong.MaxValue);
        Assert.That(Rejects(image.Bytes), Does.Contain("ZIP64 end record offset"));
    }
}
