using VallE.Weights;
using VallE.Weights.Pickle;
using VallE.Weights.Torch;

namespace VallE.Tests.Torch;

/// <summary>
/// A real torch-written ZIP64 checkpoint (&gt; 4 GB, so sizes and offsets only fit the 64-bit records). Too big to
/// generate in every test run: set $VALLE_TEST_ZIP64 to a file made with
/// <code>
/// big = torch.zeros(4_400_000_000, dtype=torch.uint8); big[0] = 7; big[-1] = 9
/// small = torch.arange(10, dtype=torch.float32)
/// torch.save({'big': big, 'small': small, 'view': small[2:5]}, path)
/// </code>
/// The synthetic ZIP64 archives of MappedZipArchiveTests run always.
/// </summary>
public class TorchZip64Tests
{
    [Test]
    public void OpensTorchWrittenZip64Checkpoint()
    {
        string? path = Environment.GetEnvironmentVariable("VALLE_TEST_ZIP64");
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
            Assert.Ignore("set VALLE_TEST_ZIP64 to a > 4 GB torch checkpoint (see the class comment) to run this check");
        using var ck = TorchCheckpoint.Open(path);
        var root = (PyDict)ck.Root!;
        var big = (TensorData)root.GetOrNull("big")!;
        Assert.That(big.DType, Is.EqualTo(DType.UInt8));
        Assert.That(big.ElementCount, Is.EqualTo(4_400_000_000L));
        Assert.That(big.Storage, Is.InstanceOf<NativeTensorStorage>());
        Assert.That(big.Storage.Slice(0, 1)[0], Is.EqualTo(7));
        Assert.That(big.Storage.Slice(4_399_999_999, 1)[0], Is.EqualTo(9));
        var small = (TensorData)root.GetOrNull("small")!;
        Assert.That(small.ToFloat32(), Is.EqualTo(Enumerable.Range(0, 10).Select(i => (float)i).ToArray()));
        var view = (TensorData)root.GetOrNull("view")!;
        Assert.That(view.ToFloat32(), Is.EqualTo(new float[] { 2, 3, 4 }));
        Assert.That(view.Storage, Is.SameAs(small.Storage));
    }
}
