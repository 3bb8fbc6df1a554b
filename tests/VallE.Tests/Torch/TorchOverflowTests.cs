using VallE.Tests.Pickle;
using VallE.Tests.Support;
using VallE.Tests.Zip;
using VallE.Weights;
using VallE.Weights.Torch;

namespace VallE.Tests.Torch;

/// <summary>
/// Torch checkpoints whose pickle gives 64-bit element counts, sizes and offsets that overflow when combined:
/// each must be an <see cref="InvalidInputException"/> naming the tensor or storage, never an OverflowException.
/// </summary>
public class TorchOverflowTests
{
    private TempDir _tmp = null!;

    [SetUp] public void SetUp() => _tmp = TestPaths.CreateTempDir();
    [TearDown] public void TearDown() => _tmp.Dispose();

    /// <summary>LONG1 with 8 bytes: any int64 (PickleBuilder.Int only writes 32-bit values).</summary>
    private static PickleBuilder Long(PickleBuilder p, long v) => p.Raw(0x8a, 8).Raw(BitConverter.GetBytes(v));

    private static PickleBuilder LongTuple(PickleBuilder p, params long[] values)
    {
        p.Mark();
        foreach (long v in values) Long(p, v);
        return p.Tuple();
    }

    /// <summary>{'w': _rebuild_tensor_v2(storage('0', numel), offset, size, stride, False, OrderedDict())}.</summary>
    private string Checkpoint(long numel, long offset, long[] size, long[] stride, string type = "FloatStorage", int storageBytes = 16)
    {
        var p = new PickleBuilder().Proto(2).EmptyDict().Str("w");
        p.Global("torch._utils", "_rebuild_tensor_v2").Mark();
        Long(p.Mark().Str("storage").Global("torch", type).Str("0").Str("cpu"), numel).Tuple().BinPersId();
        Long(p, offset);
        LongTuple(p, size);
        LongTuple(p, stride).False();
        p.Global("collections", "OrderedDict").EmptyTuple().Reduce();
        p.Tuple().Reduce().SetItem().Stop();
        var zip = new TestZip().Add("archive/data.pkl", p.Bytes).Add("archive/data/0", new byte[storageBytes]).Add("archive/version", "3\n");
        string path = _tmp.File($"c{Guid.NewGuid():N}.pt");
        File.WriteAllBytes(path, zip.Build().Bytes);
        return path;
    }

    private static string Rejects(string path)
    {
        var e = Assert.Throws<InvalidInputException>(() => TorchCheckpoint.Open(path).Dispose());
        Assert.That(e!.Message, Does.StartWith(path + ": ").And.Not.Contain("\n"));
        return e.Message;
    }

    [Test]
    public void SaneLongValuesOpen()
    {
        using var ck = TorchCheckpoint.Open(Checkpoint(4, 1, [3], [1]));
        Assert.That(ck.AllTensors().Single().Shape, Is.EqualTo(new long[] { 3 }));
    }

    [Test]
    public void StorageElementCountTimesItemSizeOverflows() =>
        Assert.That(Rejects(Checkpoint(1L << 62, 0, [1], [1], "DoubleStorage")), Does.Contain("storage '0': element count 4611686018427387904 overflows"));

    [Test]
    public void ViewShapeProductOverflows() =>
        Assert.That(Rejects(Checkpoint(4, 0, [1L << 62, 4], [0, 0])), Does.Contain("tensor 'w': shape [4611686018427387904, 4] has too many elements"));

    [Test]
    public void OffsetPlusExtentOverflows() =>
        Assert.That(Rejects(Checkpoint(4, long.MaxValue, [2], [1])), Does.Contain("tensor 'w'").And.Contain("overflows"));

    [Test]
    public void StrideTimesSizeOverflows() =>
        Assert.That(Rejects(Checkpoint(4, 0, [3, 2], [long.MaxValue / 2 + 1, 1])), Does.Contain("tensor 'w'").And.Contain("overflows"));
}
