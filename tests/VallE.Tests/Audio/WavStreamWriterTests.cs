using System.Buffers.Binary;
using VallE.Runtime.Audio;
using VallE.Tests.Support;

namespace VallE.Tests.Audio;

/// <summary>Progressive WAV writing: same bytes as the one-shot writer, sizes patched, "unknown" sizes on pipes.</summary>
public class WavStreamWriterTests
{
    private static float[] Tone(int n) => Enumerable.Range(0, n).Select(i => 1.2f * MathF.Sin(i * 0.05f)).ToArray();

    [TestCase(WavOutputFormat.Pcm16)]
    [TestCase(WavOutputFormat.Float32)]
    public void PiecesWrittenInTurnEqualOneWrite(WavOutputFormat format)
    {
        using var dir = new TempDir();
        float[] a = Tone(70_001), b = Tone(333);
        long clippedWhole = WavWriter.Write(dir.File("whole.wav"), (float[])[.. a, .. new float[100], .. b], 24000, format);
        var ms = new MemoryStream();
        var w = new WavStreamWriter(ms, 24000, format);
        w.Append(a);
        w.AppendSilence(100);
        w.Append(b);
        w.Finish();
        Assert.That(ms.ToArray(), Is.EqualTo(File.ReadAllBytes(dir.File("whole.wav"))));
        Assert.That(w.Clipped, Is.EqualTo(clippedWhole));
        Assert.That(w.Samples, Is.EqualTo(a.Length + 100 + b.Length));
        var read = WavReader.Read(dir.File("whole.wav"));
        Assert.That(read.Frames, Is.EqualTo(a.Length + 100 + b.Length));
    }

    [Test]
    public void APipeGetsUnknownLengthSizes()
    {
        var pipe = new NonSeekable();
        var w = new WavStreamWriter(pipe, 24000, WavOutputFormat.Pcm16);
        w.Append(Tone(10));
        w.Finish();
        byte[] bytes = pipe.Inner.ToArray();
        Assert.That(bytes, Has.Length.EqualTo(44 + 20));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)), Is.EqualTo(uint.MaxValue));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(40)), Is.EqualTo(uint.MaxValue));
    }

    private sealed class NonSeekable : Stream
    {
        public readonly MemoryStream Inner = new();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Inner.Write(buffer, offset, count);
    }
}
