using VallE.Runtime.Backends;
using VallE.Runtime.Cpu;

namespace VallE.Tests.Backends;

/// <summary>
/// What the interface promises about misuse: shapes that disagree with each other or with the weights throw
/// <see cref="ArgumentException"/> (a bug in the model) before any work; an id outside its table throws on the CPU and
/// gives NaN on a device.
/// </summary>
[TestFixture("cpu")]
[TestFixture("cuda")]
public class ShapeContractTests(string backendName)
{
    private IComputeBackend _b = null!;

    [SetUp]
    public void SetUp() => _b = TestBackends.Create(backendName);

    [TearDown]
    public void TearDown() => _b?.Dispose();

    [Test]
    public void LinearWidthsMustMatchTheWeights()
    {
        using var w = _b.CreateLinear("w", new float[5 * 3], [], 5, 3, WeightsDType.F32);
        using var x3 = _b.Allocate(TensorType.F32, 2, 3);
        using var x4 = _b.Allocate(TensorType.F32, 2, 4);
        using var y5 = _b.Allocate(TensorType.F32, 2, 5);
        using var y6 = _b.Allocate(TensorType.F32, 2, 6);
        Assert.That(() => _b.Linear(w, x4.All, y5.All), Throws.InstanceOf<ArgumentException>(), "input width");
        Assert.That(() => _b.Linear(w, x3.All, y6.All), Throws.InstanceOf<ArgumentException>(), "output width");
        Assert.That(() => _b.Linear(w, x3.Slice(0, 1), y5.All), Throws.InstanceOf<ArgumentException>(), "row counts");
    }

    [Test]
    public void ElementwiseRowCountsMustAgree()
    {
        using var a = _b.Allocate(TensorType.F32, 3, 4);
        using var c = _b.Allocate(TensorType.F32, 3, 5);
        Assert.That(() => _b.Add(a.All, a.Slice(0, 2)), Throws.InstanceOf<ArgumentException>(), "Add rows");
        Assert.That(() => _b.Add(a.All, c.All), Throws.InstanceOf<ArgumentException>(), "Add widths");
        Assert.That(() => _b.Copy(a.All, c.All), Throws.InstanceOf<ArgumentException>(), "Copy widths");
    }

    [Test]
    public void AttentionWidthsMustMatchTheCache()
    {
        using var cache = _b.CreateKvCache("kv", 1, 1, 8, 16, keepsHistory: true);
        using var qkv = _b.Allocate(TensorType.F32, 4, 48);
        using var wrongQkv = _b.Allocate(TensorType.F32, 4, 45);
        using var output = _b.Allocate(TensorType.F32, 4, 16);
        AttentionSegment[] segment = [new(0, 0, 0, 4, 1, true)];
        Assert.That(() => _b.Attention(cache, 0, 3, qkv.All, segment, output.All), Throws.InstanceOf<ArgumentException>(), "heads must divide the width");
        Assert.That(() => _b.Attention(cache, 0, 4, wrongQkv.All, segment, output.All), Throws.InstanceOf<ArgumentException>(), "q|k|v width");
    }

    [Test]
    public void AnIdOutsideItsTableThrowsOnTheCpuAndGivesNaNOnADevice()
    {
        using var table = _b.CreateTable("t", TestData.Uniform(4 * 8, 1), 4, 8);
        using var ids = _b.Allocate(TensorType.I32, 2, 1);
        using var dst = _b.Allocate(TensorType.F32, 2, 8);
        _b.Write(ids.All, [1, 4]);
        if (_b.Name == "cpu")
        {
            Assert.That(() => { _b.GatherSum([table], ids.All, dst.All); }, Throws.Exception);
            return;
        }
        _b.GatherSum([table], ids.All, dst.All);
        var y = new float[16];
        _b.Read(dst.All, y);
        Assert.That(y[8..], Is.All.NaN, "the row of the bad id");
    }
}
