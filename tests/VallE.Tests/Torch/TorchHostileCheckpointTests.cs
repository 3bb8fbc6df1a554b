using System.Buffers.Binary;
using VallE.Tests.Pickle;
using VallE.Tests.Support;
using VallE.Tests.Zip;
using VallE.Weights;
using VallE.Weights.Pickle;
using VallE.Weights.Torch;

namespace VallE.Tests.Torch;

/// <summary>
/// Checkpoints assembled byte by byte (zip + pickle) so that each carries exactly one lie or hostile construct;
/// every one must fail with an <see cref="InvalidInputException"/> naming the file and the offending part.
/// </summary>
public class TorchHostileCheckpointTests
{
    private TempDir _tmp = null!;

    [SetUp] public void SetUp() => _tmp = TestPaths.CreateTempDir();
    [TearDown] public void TearDown() => _tmp.Dispose();

    private static byte[] Floats(params float[] values)
    {
        var b = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(4 * i), values[i]);
        return b;
    }

    /// <summary>{'w': pickle-built value} plus the given storages, in a torch-shaped zip.</summary>
    private string Checkpoint(PickleBuilder value, params (string Key, byte[] Data)[] storages) =>
        Checkpoint(new PickleBuilder().Proto(2).EmptyDict().Str("w").Raw(value.Bytes).SetItem().Stop().Bytes, storages);

    private string Checkpoint(byte[] pickle, (string Key, byte[] Data)[] storages, string? byteOrder = null, bool deflate = false)
    {
        var zip = new TestZip().Add("archive/data.pkl", pickle);
        if (byteOrder is not null) zip.Add("archive/byteorder", byteOrder);
        foreach (var (key, data) in storages) zip.Add($"archive/data/{key}", data, deflate);
        zip.Add("archive/version", "3\n");
        string path = _tmp.File($"c{Guid.NewGuid():N}.pt");
        File.WriteAllBytes(path, zip.Build().Bytes);
        return path;
    }

    private static TensorData W(TorchCheckpoint ck) => (TensorData)((PyDict)ck.Root!).GetOrNull("w")!;

    private static string Rejects(string path, string fragment)
    {
        var e = Assert.Throws<InvalidInputException>(() => TorchCheckpoint.Open(path).Dispose());
        Assert.That(e!.Message, Does.StartWith(path + ": "));
        Assert.That(e.Message, Does.Contain(fragment));
        Assert.That(e.Message, Does.Not.Contain("\n"));
        return e.Message;
    }

    [Test]
    public void HandBuiltCheckpointOpens()
    {
        string path = Checkpoint(new PickleBuilder().Tensor("0", 4, 0, [2, 2], [2, 1]), ("0", Floats(1, 2, 3, 4)));
        using var ck = TorchCheckpoint.Open(path);
        var w = W(ck);
        Assert.That(w.Name, Is.EqualTo("w"));
        Assert.That(w.Shape, Is.EqualTo(new long[] { 2, 2 }));
        Assert.That(w.ToFloat32(), Is.EqualTo(new float[] { 1, 2, 3, 4 }));
        Assert.That(w.Storage.Key, Is.EqualTo("data/0"));
        Assert.That(ck.ArchiveName, Is.EqualTo("archive"));
        Assert.That(ck.AllTensors().Count(), Is.EqualTo(1));
    }

    [Test]
    public void CorruptStorageBytesAreFoundByVerifyChecksums()
    {
        string path = Checkpoint(new PickleBuilder().Tensor("0", 4, 0, [4], [1]), ("0", Floats(1, 2, 3, 4)));
        using (var ck = TorchCheckpoint.Open(path)) ck.VerifyChecksums();
        var bytes = File.ReadAllBytes(path);
        int at = bytes.AsSpan().IndexOf(Floats(1, 2, 3, 4));
        bytes[at + 5] ^= 0x40; // flip a bit inside the mapped storage: opening does not read it
        File.WriteAllBytes(path, bytes);
        using var bad = TorchCheckpoint.Open(path);
        var e = Assert.Throws<InvalidInputException>(bad.VerifyChecksums);
        Assert.That(e!.Message, Does.StartWith(path + ": zip entry 'archive/data/0': CRC-32 mismatch"));
    }

    [Test]
    public void DeflatedStoragesAreInflated()
    {
        var pickle = new PickleBuilder().Proto(2).EmptyDict().Str("w").Tensor("0", 4, 1, [3], [1]).SetItem().Stop().Bytes;
        using var ck = TorchCheckpoint.Open(Checkpoint(pickle, [("0", Floats(1, 2, 3, 4))], deflate: true));
        Assert.That(W(ck).ToFloat32(), Is.EqualTo(new float[] { 2, 3, 4 }));
    }

    [Test]
    public void BigEndianCheckpointsAreByteSwapped()
    {
        var big = new byte[8];
        BinaryPrimitives.WriteSingleBigEndian(big, 1.5f);
        BinaryPrimitives.WriteSingleBigEndian(big.AsSpan(4), -2f);
        var pickle = new PickleBuilder().Proto(2).EmptyDict().Str("w").Tensor("0", 2, 0, [2], [1]).SetItem().Stop().Bytes;
        using var ck = TorchCheckpoint.Open(Checkpoint(pickle, [("0", big)], byteOrder: "big"));
        Assert.That(W(ck).ToFloat32(), Is.EqualTo(new[] { 1.5f, -2f }));
        Assert.That(W(ck).Storage, Is.InstanceOf<ArrayTensorStorage>());
    }

    [Test]
    public void RejectsUnknownByteOrder()
    {
        var pickle = new PickleBuilder().Proto(2).None().Stop().Bytes;
        Rejects(Checkpoint(pickle, [], byteOrder: "middle"), "unknown byte order 'middle'");
    }

    [Test]
    public void RejectsDisallowedGlobal()
    {
        var msg = Rejects(Checkpoint(new PickleBuilder().Global("os", "system").Str("rm -rf /").Tuple1().Reduce()), "refusing");
        Assert.That(msg, Does.EndWith(": data.pkl: refusing global 'os.system' (checkpoints never need it)"));
    }

    [Test]
    public void RejectsPersistentIdForMissingStorage() =>
        Rejects(Checkpoint(new PickleBuilder().Tensor("7", 4, 0, [4], [1]), ("0", Floats(1, 2, 3, 4))),
            "persistent id names storage '7' but the archive has no entry 'archive/data/7'");

    [Test]
    public void RejectsStorageNumelNotMatchingTheEntry() =>
        Rejects(Checkpoint(new PickleBuilder().Tensor("0", 5, 0, [5], [1]), ("0", Floats(1, 2, 3, 4))),
            "zip entry 'archive/data/0': storage declares 5 f32 elements (20 bytes) but the entry holds 16 bytes");

    [Test]
    public void RejectsTerabyteDeclarationsWithoutAllocating()
    {
        Rejects(Checkpoint(new PickleBuilder().Tensor("0", int.MaxValue, 0, [int.MaxValue], [1], "DoubleStorage"), ("0", Floats(1, 2))),
            "but the entry holds 8 bytes");
        // A view claiming 2^31 x 2^31 elements of a 4-element storage.
        Rejects(Checkpoint(new PickleBuilder().Tensor("0", 4, 0, [int.MaxValue, int.MaxValue], [1, 1]), ("0", Floats(1, 2, 3, 4))),
            "runs past its storage");
    }

    [Test]
    public void RejectsRepeatedViewsThatWouldExpandToTerabytes()
    {
        // stride 0 keeps the view inside its 4-element storage while naming 2^62 elements
        Rejects(Checkpoint(new PickleBuilder().Tensor("0", 4, 0, [int.MaxValue, int.MaxValue], [0, 0]), ("0", Floats(1, 2, 3, 4))),
            "view of 4611686014132420609 elements repeats its 4-element storage 'data/0'");
        // a small expanded view is fine (torch saves expand() results this way)
        using var ck = TorchCheckpoint.Open(Checkpoint(new PickleBuilder().Tensor("0", 4, 0, [3, 4], [0, 1]), ("0", Floats(1, 2, 3, 4))));
        Assert.That(W(ck).ToFloat32(), Is.EqualTo(new float[] { 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4 }));
    }

    [TestCase(0, new[] { 5 }, new[] { 1 }, TestName = "ShapePastStorage")]
    [TestCase(3, new[] { 2 }, new[] { 1 }, TestName = "OffsetPastStorage")]
    [TestCase(0, new[] { 2, 2 }, new[] { 3, 1 }, TestName = "StridePastStorage")]
    public void RejectsViewsPastTheirStorage(int offset, int[] shape, int[] stride)
    {
        var msg = Rejects(Checkpoint(new PickleBuilder().Tensor("0", 4, offset, shape, stride), ("0", Floats(1, 2, 3, 4))), "runs past its storage 'data/0'");
        Assert.That(msg, Does.Contain("data.pkl: ['w']: tensor 'w'"));
    }

    [Test]
    public void RejectsNegativeStrideAndOffset()
    {
        Rejects(Checkpoint(new PickleBuilder().Tensor("0", 4, 0, [2], [-1]), ("0", Floats(1, 2, 3, 4))), "negative size or stride");
        Rejects(Checkpoint(new PickleBuilder().Tensor("0", 4, -1, [2], [1]), ("0", Floats(1, 2, 3, 4))), "negative storage offset");
    }

    [Test]
    public void RejectsRankMismatch() =>
        Rejects(Checkpoint(new PickleBuilder().Tensor("0", 4, 0, [2, 2], [1]), ("0", Floats(1, 2, 3, 4))), "differ in rank");

    [Test]
    public void RejectsUnsupportedStorageType() =>
        Rejects(Checkpoint(new PickleBuilder().Tensor("0", 2, 0, [2], [1], "ComplexFloatStorage"), ("0", Floats(1, 2, 3, 4))),
            "unsupported storage type torch.ComplexFloatStorage");

    [Test]
    public void RejectsOneStorageKeyWithTwoDtypes()
    {
        var pickle = new PickleBuilder().Proto(2).Mark()
            .Tensor("0", 4, 0, [4], [1]).Tensor("0", 8, 0, [8], [1], "HalfStorage").Tuple().Stop().Bytes;
        Rejects(Checkpoint(pickle, [("0", Floats(1, 2, 3, 4))]), "storage '0' is referenced as both f32 and f16[8]");
    }

    [TestCase("../0")]
    [TestCase("")]
    [TestCase("0/../../x")]
    public void RejectsBadStorageKeys(string key) =>
        Rejects(Checkpoint(new PickleBuilder().Tensor(key, 4, 0, [4], [1]), ("0", Floats(1, 2, 3, 4))), "bad storage key");

    [Test]
    public void RejectsPersistentIdsThatAreNotStorages()
    {
        Rejects(Checkpoint(new PickleBuilder().Str("module").BinPersId()), "unsupported persistent id 'module'");
        Rejects(Checkpoint(new PickleBuilder().Mark().Str("storage").Global("torch", "FloatStorage").Str("0").Str("cpu").Tuple().BinPersId()), "unsupported persistent id");
    }

    [Test]
    public void RejectsRebuildWithoutAStorage() =>
        Rejects(Checkpoint(new PickleBuilder().Global("torch._utils", "_rebuild_tensor_v2")
            .Mark().None().Int(0).IntTuple(1).IntTuple(1).False().None().Tuple().Reduce()), "expects a storage, got None");

    [Test]
    public void InterpretsParametersAndTensorSubclassWrappers()
    {
        // _rebuild_parameter(_rebuild_tensor_v2(...), True, OrderedDict()) and _rebuild_from_type_v2(_rebuild_tensor_v2, Tensor, args, {})
        var param = new PickleBuilder().Global("torch._utils", "_rebuild_parameter").Mark()
            .Tensor("0", 4, 0, [4], [1]).Raw(0x88).Global("collections", "OrderedDict").EmptyTuple().Reduce().Tuple().Reduce();
        using (var ck = TorchCheckpoint.Open(Checkpoint(param, ("0", Floats(1, 2, 3, 4)))))
            Assert.That(W(ck).ToFloat32(), Is.EqualTo(new float[] { 1, 2, 3, 4 }));

        var wrapped = new PickleBuilder().Global("torch._tensor", "_rebuild_from_type_v2").Mark()
            .Global("torch._utils", "_rebuild_tensor_v2").Global("torch", "Tensor")
            .Mark().Storage("0", 4).Int(2).IntTuple(2).IntTuple(1).False().Global("collections", "OrderedDict").EmptyTuple().Reduce().Tuple()
            .EmptyDict().Tuple().Reduce();
        using (var ck = TorchCheckpoint.Open(Checkpoint(wrapped, ("0", Floats(1, 2, 3, 4)))))
            Assert.That(W(ck).ToFloat32(), Is.EqualTo(new float[] { 3, 4 }));
    }

    [Test]
    public void InterpretsRebuildTensorV3OverUntypedStorage()
    {
        // torch 2.x: an untyped (byte) storage with the dtype given to _rebuild_tensor_v3
        var v3 = new PickleBuilder().Global("torch._utils", "_rebuild_tensor_v3").Mark()
            .Storage("0", 16, "UntypedStorage").Int(1).IntTuple(2).IntTuple(1).False()
            .Global("collections", "OrderedDict").EmptyTuple().Reduce().Global("torch", "float32").Tuple().Reduce();
        using var ck = TorchCheckpoint.Open(Checkpoint(v3, ("0", Floats(1, 2, 3, 4))));
        Assert.That(W(ck).DType, Is.EqualTo(DType.Float32));
        Assert.That(W(ck).ToFloat32(), Is.EqualTo(new float[] { 2, 3 }));
    }

    [Test]
    public void OpensTorch2xArchiveLayout()
    {
        // torch >= 2.1 adds byteorder, .format_version, .storage_alignment and .data/serialization_id entries, and
        // passes tensor metadata as a 7th _rebuild_tensor_v2 argument.
        var pickle = new PickleBuilder().Proto(2).EmptyDict().Str("w")
            .Global("torch._utils", "_rebuild_tensor_v2").Mark().Storage("0", 4).Int(0).IntTuple(4).IntTuple(1).False()
            .Global("collections", "OrderedDict").EmptyTuple().Reduce().EmptyDict().Tuple().Reduce()
            .SetItem().Stop().Bytes;
        var zip = new TestZip().Add("archive/data.pkl", pickle).Add("archive/.format_version", "1").Add("archive/.storage_alignment", "64")
            .Add("archive/byteorder", "little").Add("archive/data/0", Floats(1, 2, 3, 4)).Add("archive/version", "3\n")
            .Add("archive/.data/serialization_id", "1234567890");
        string path = _tmp.File("t2.pt");
        File.WriteAllBytes(path, zip.Build().Bytes);
        using var ck = TorchCheckpoint.Open(path);
        Assert.That(W(ck).ToFloat32(), Is.EqualTo(new float[] { 1, 2, 3, 4 }));
        Assert.That(W(ck).Storage, Is.InstanceOf<NativeTensorStorage>());
    }

    [Test]
    public void RejectsZipWithoutDataPkl()
    {
        string path = _tmp.File("x.pt");
        File.WriteAllBytes(path, new TestZip().Add("readme.txt", "hi").Build().Bytes);
        Rejects(path, "has no '<folder>/data.pkl'");
    }

    [Test]
    public void RejectsTorchScriptArchives()
    {
        string path = _tmp.File("x.pt");
        File.WriteAllBytes(path, new TestZip().Add("m/data.pkl", new PickleBuilder().Proto(2).None().Stop().Bytes)
            .Add("m/constants.pkl", "x").Add("m/code/__torch__.py", "x").Build().Bytes);
        Rejects(path, "TorchScript archive");
    }

    [Test]
    public void RejectsEmptyFileDirectoryAndNonZip()
    {
        string empty = _tmp.File("empty.pt");
        File.WriteAllBytes(empty, []);
        Rejects(empty, "empty file");
        Assert.That(Assert.Throws<InvalidInputException>(() => TorchCheckpoint.Open(_tmp.Path))!.Message, Does.Contain("is a directory"));
        string text = _tmp.File("text.pt");
        File.WriteAllText(text, "not a checkpoint");
        Rejects(text, "not a zip archive");
    }

    [Test]
    public void RejectsTruncatedCheckpoint()
    {
        string good = Checkpoint(new PickleBuilder().Tensor("0", 4, 0, [4], [1]), ("0", Floats(1, 2, 3, 4)));
        var bytes = File.ReadAllBytes(good);
        foreach (int keep in new[] { bytes.Length / 2, bytes.Length - 1, 100 })
        {
            string cut = _tmp.File($"cut{keep}.pt");
            File.WriteAllBytes(cut, bytes[..keep]);
            Assert.Throws<InvalidInputException>(() => TorchCheckpoint.Open(cut).Dispose(), $"keep {keep}");
        }
    }

    [Test]
    public void RejectsTruncatedDataPkl()
    {
        var pickle = new PickleBuilder().Proto(2).EmptyDict().Str("w").Tensor("0", 4, 0, [4], [1]).SetItem().Stop().Bytes;
        Rejects(Checkpoint(pickle[..^5], [("0", Floats(1, 2, 3, 4))]), "data.pkl: truncated pickle");
    }
}
