using VallE.Tests.Support;
using VallE.Weights.NumPy;

namespace VallE.Tests.NumPy;

public class NpyTests
{
    [Test]
    public void ReadsFixtureTextTokens()
    {
        var a = Npy.Read(TestPaths.RequireShared("valle", "valle-tiny", "text_tokens.npy"));
        Assert.That(a.Type, Is.EqualTo(NpyType.Int64));
        Assert.That(a.Shape, Is.EqualTo(new long[] { 14 }));
        Assert.That(a.ToInt64()[0], Is.EqualTo(1), "starts with <bos>");
    }

    [Test]
    public void RoundTripsInt64AndFloat32()
    {
        using var tmp = TestPaths.CreateTempDir();
        long[] codes = [1, 2, 3, 4, 5, 6];
        Npy.WriteInt64(tmp.File("c.npy"), codes, 3, 2);
        var back = Npy.Read(tmp.File("c.npy"));
        Assert.That(back.Shape, Is.EqualTo(new long[] { 3, 2 }));
        Assert.That(back.ToInt64(), Is.EqualTo(codes));

        float[] f = [0.5f, -1.25f];
        Npy.WriteFloat32(tmp.File("f.npy"), f, 2);
        Assert.That(Npy.Read(tmp.File("f.npy")).ToFloat32(), Is.EqualTo(f));
    }

    [Test]
    public void RejectsTruncatedData()
    {
        using var tmp = TestPaths.CreateTempDir();
        Npy.WriteInt64(tmp.File("c.npy"), new long[] { 1, 2, 3 }, 3);
        var bytes = File.ReadAllBytes(tmp.File("c.npy"));
        File.WriteAllBytes(tmp.File("t.npy"), bytes[..^4]);
        var e = Assert.Throws<InvalidInputException>(() => Npy.Read(tmp.File("t.npy")));
        Assert.That(e!.Message, Does.Contain("t.npy"));
    }

    [Test]
    public void ReadsNpzPreset()
    {
        var z = Npy.ReadNpz(TestPaths.RequireShared("vallex-presets", "alan.npz"));
        Assert.That(z, Does.ContainKey("audio_tokens"));
        Assert.That(z["audio_tokens"].Shape[^1], Is.EqualTo(8));
    }
}
