using VallE.Runtime.Codec;
using VallE.Tests.Engine;

namespace VallE.Tests.Codec;

/// <summary>The one codes type: shape, frame-major layout, views and copies, conversions from a matrix.</summary>
public class AudioCodesTests
{
    /// <summary>3 frames x 8 codebooks, code = 10 * frame + codebook.</summary>
    private static long[] Data(int frames = 3, int codebooks = 8)
    {
        var data = new long[frames * codebooks];
        for (int t = 0; t < frames; t++)
            for (int j = 0; j < codebooks; j++) data[t * codebooks + j] = 10 * t + j;
        return data;
    }

    [Test]
    public void ShapeAndFrameMajorLayout()
    {
        long[] data = Data();
        var codes = new AudioCodes(data, 3);
        Assert.That((codes.Frames, codes.Codebooks), Is.EqualTo((3, EncodecContract.Quantizers)));
        Assert.That(codes.ToString(), Is.EqualTo("[3, 8]"));
        Assert.That(codes[2, 5], Is.EqualTo(25));
        Assert.That(codes.Span.ToArray(), Is.EqualTo(data));
        Assert.That(codes.Frame(1).ToArray(), Is.EqualTo(new long[] { 10, 11, 12, 13, 14, 15, 16, 17 }));
        Assert.That(codes.Codebook(3), Is.EqualTo(new long[] { 3, 13, 23 }));
    }

    [Test]
    public void SpanIsAViewOfTheArrayNotACopy()
    {
        long[] data = Data();
        var codes = new AudioCodes(data, 3);
        data[9] = 999;
        Assert.That(codes[1, 1], Is.EqualTo(999));
        Assert.That(codes.Frame(1)[1], Is.EqualTo(999));
    }

    [Test]
    public void AnyCodebookCountFromOne()
    {
        var codes = new AudioCodes(Data(4, 3), 4, 3);
        Assert.That((codes.Frames, codes.Codebooks), Is.EqualTo((4, 3)));
        Assert.That(codes[3, 2], Is.EqualTo(32));
        Assert.That(new AudioCodes([], 0).Frames, Is.Zero);
        Assert.That(new AudioCodes([1, 2], 2, 1).Codebook(0), Is.EqualTo(new long[] { 1, 2 }));
    }

    [Test]
    public void MatrixRoundTrips()
    {
        var m = new long[3, 8];
        for (int t = 0; t < 3; t++)
            for (int j = 0; j < 8; j++) m[t, j] = 10 * t + j;
        AudioCodes codes = AudioCodes.FromMatrix(m);
        Assert.That(codes.Span.ToArray(), Is.EqualTo(Data()));
        Assert.That(codes.ToMatrix(), Is.EqualTo(m));
        AudioCodes converted = m;   // the implicit conversion
        CodeAssert.Equal(codes, converted);
        Assert.That(AudioCodes.FromMatrix(new AudioCodes(Data(5, 2), 5, 2).ToMatrix()).Span.ToArray(), Is.EqualTo(Data(5, 2)));

        // Copies both ways: neither side sees later changes of the other.
        m[0, 0] = 7;
        Assert.That(codes[0, 0], Is.Zero);
        long[,] back = codes.ToMatrix();
        back[1, 1] = 7;
        Assert.That(codes[1, 1], Is.EqualTo(11));

        AudioCodes empty = new long[0, 8];
        Assert.That((empty.Frames, empty.Codebooks), Is.EqualTo((0, 8)));
        Assert.That(empty.ToMatrix(), Has.Length.Zero);
    }

    [Test]
    public void SliceCopiesWholeFrames()
    {
        var codes = new AudioCodes(Data(5, 8), 5);
        AudioCodes middle = codes.Slice(1, 3);
        Assert.That((middle.Frames, middle.Codebooks), Is.EqualTo((3, 8)));
        Assert.That(middle.Codebook(0), Is.EqualTo(new long[] { 10, 20, 30 }));
        Assert.That(middle[2, 7], Is.EqualTo(37));
        Assert.That(codes.Slice(5, 0).Frames, Is.Zero);
        CodeAssert.Equal(codes, codes.Slice(0, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => codes.Slice(3, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => codes.Slice(-1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => codes.Slice(0, -1));
    }

    [Test]
    public void WrongLengthOrShapeIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => new AudioCodes(new long[7], 1));
        Assert.That(e!.Message, Does.StartWith("codes hold 7 values, expected 1 frames x 8 codebooks"));
        Assert.That(e.ParamName, Is.EqualTo("data"));
        Assert.Throws<ArgumentException>(() => new AudioCodes(new long[6], 2, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AudioCodes([], -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AudioCodes([], 0, 0));
        Assert.Throws<ArgumentNullException>(() => new AudioCodes(null!, 0));
        Assert.Throws<ArgumentException>(() => AudioCodes.FromMatrix(new long[3, 0]));
        Assert.Throws<ArgumentNullException>(() => AudioCodes.FromMatrix(null!));
    }

    [Test]
    public void IndexesOutsideTheShapeThrow()
    {
        var codes = new AudioCodes(Data(), 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = codes[3, 0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = codes[0, 8]);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = codes[-1, 0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => codes.Frame(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => codes.Codebook(8));
    }

    [Test]
    public void CodesFileReadsFrameMajor()
    {
        using var dir = Support.TestPaths.CreateTempDir();
        VallE.Weights.NumPy.Npy.WriteInt64(dir.File("c.npy"), Data(), 1, 3, 8);
        AudioCodes codes = CodesFile.Read(dir.File("c.npy"));
        Assert.That((codes.Frames, codes.Codebooks), Is.EqualTo((3, 8)));
        Assert.That(codes.Span.ToArray(), Is.EqualTo(Data()));
    }
}
