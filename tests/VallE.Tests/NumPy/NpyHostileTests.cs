using System.IO.Compression;
using System.Text;
using VallE.Cli;
using VallE.Tests.Support;
using VallE.Tests.Zip;
using VallE.Weights;
using VallE.Weights.NumPy;

namespace VallE.Tests.NumPy;

/// <summary>
/// .npy/.npz files whose headers lie about their size: each must be an <see cref="InvalidInputException"/> naming
/// the file and the field, decided before anything of the claimed size is allocated.
/// </summary>
public class NpyHostileTests
{
    /// <summary>A version 1.0 .npy with a hand-written header and <paramref name="dataBytes"/> zero bytes of data.</summary>
    internal static byte[] NpyFile(string descr, string shape, int dataBytes)
    {
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        string header = dict + new string(' ', (64 - (10 + dict.Length + 1) % 64) % 64) + "\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 };
        bytes.AddRange(BitConverter.GetBytes((ushort)header.Length));
        bytes.AddRange(Encoding.Latin1.GetBytes(header));
        bytes.AddRange(new byte[dataBytes]);
        return [.. bytes];
    }

    [TestCase("<i8", "(2305843009213693952,)", 0, "header shape [2305843009213693952] has too many elements", TestName = "TwoToThe61Int64")]
    [TestCase("<f4", "(4611686018427387904, 4)", 16, "header shape [4611686018427387904, 4] has too many elements", TestName = "ElementCountOverflows")]
    [TestCase("|u1", "(4294967296, 4294967296)", 0, "has too many elements", TestName = "SquareOverflows")]
    [TestCase("<i8", "(0, 9223372036854775807, 2)", 0, "has too many elements", TestName = "EmptyButNonZeroDimsOverflow")]
    [TestCase("<i8", "(1000000000, 8)", 100, "header shape [1000000000, 8] needs 64000000000 data bytes, file holds 100", TestName = "EightGigabytesClaimedByATinyFile")]
    [TestCase("<i8", "(2147483648, 0)", 0, "has a dimension over", TestName = "EmptyArrayWithAHugeDimension")]
    public void LyingHeadersAreInvalidInput(string descr, string shape, int dataBytes, string message)
    {
        using var dir = TestPaths.CreateTempDir();
        string path = dir.File("huge.npy");
        File.WriteAllBytes(path, NpyFile(descr, shape, dataBytes));
        var e = Assert.Throws<InvalidInputException>(() => Npy.Read(path));
        Assert.That(e!.Message, Does.StartWith(path + ": ").And.Contain(message));
    }

    [Test]
    public void EmptyArraysWithSaneDimensionsStillRead()
    {
        var a = Npy.Read(new MemoryStream(NpyFile("<i8", "(0, 8)", 0)), NpyFile("<i8", "(0, 8)", 0).Length);
        Assert.That(a.Shape, Is.EqualTo(new long[] { 0, 8 }));
        Assert.That(a.ToInt64(), Is.Empty);
    }

    [Test]
    public void NpzMemberDeclaringMoreThanAnArrayHoldsIsInvalidInput()
    {
        using var dir = TestPaths.CreateTempDir();
        var image = new TestZip().Add("codes.npy", NpyFile("<i8", "(2,)", 16), deflate: true).Build();
        image.PatchCentralU32(0, TestZip.CentralUncompressedSize, 0xFFFFFFF0);
        image.PatchLocalU32(0, TestZip.LocalUncompressedSize, 0xFFFFFFF0);
        File.WriteAllBytes(dir.File("a.npz"), image.Bytes);
        var e = Assert.Throws<InvalidInputException>(() => Npy.ReadNpz(dir.File("a.npz")));
        Assert.That(e!.Message, Does.StartWith(dir.File("a.npz") + ": "));
    }

    [Test]
    public void NpzMemberInflatingPastItsDeclaredSizeIsInvalidInput()
    {
        using var dir = TestPaths.CreateTempDir();
        var image = new TestZip().Add("codes.npy", NpyFile("<i8", "(1000,)", 8000), deflate: true).Build();
        image.PatchCentralU32(0, TestZip.CentralUncompressedSize, 200);
        image.PatchLocalU32(0, TestZip.LocalUncompressedSize, 200);
        File.WriteAllBytes(dir.File("b.npz"), image.Bytes);
        var e = Assert.Throws<InvalidInputException>(() => Npy.ReadNpz(dir.File("b.npz")));
        Assert.That(e!.Message, Does.StartWith(dir.File("b.npz") + ": "));
    }

    [Test]
    public void DecodeOfAHugeHeaderIsExit3WithOneLine()
    {
        using var dir = TestPaths.CreateTempDir();
        File.WriteAllBytes(dir.File("huge.npy"), NpyFile("<i8", "(2305843009213693952, 8)", 0));
        var r = CliRunner.Run("decode", dir.File("huge.npy"), "--codec-decoder", dir.File("x.onnx"), "--out", dir.File("o.wav"));
        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.InvalidInput), r.ToString());
        Assert.That(r.Err.Trim().Split('\n'), Has.Length.EqualTo(1), r.ToString());
        Assert.That(r.Err, Does.StartWith("valle: error: ").And.Contain("huge.npy: header shape [2305843009213693952, 8] has too many elements"), r.ToString());
        Assert.That(File.Exists(dir.File("o.wav")), Is.False);
    }
}
