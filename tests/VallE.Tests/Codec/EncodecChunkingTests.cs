using VallE.Runtime.Codec;

namespace VallE.Tests.Codec;

/// <summary>How long inputs are cut into windows (no model involved).</summary>
public class EncodecChunkingTests
{
    [Test]
    public void InputsThatFitOneRunAreOneWindow()
    {
        var c = EncodecChunking.Default;
        Assert.That(c.Plan(1), Is.EqualTo(new[] { new CodecChunk(0, 1, 0, 1) }));
        Assert.That(c.Plan(c.ChunkFrames), Is.EqualTo(new[] { new CodecChunk(0, c.ChunkFrames, 0, c.ChunkFrames) }));
        Assert.That(c.Plan(c.ChunkFrames + 1), Has.Count.EqualTo(2));
    }

    [TestCase(41)]
    [TestCase(97)]
    [TestCase(203)]
    [TestCase(20000)]
    public void CoresPartitionTheInputAndWindowsStayWithinOneRun(int frames)
    {
        var c = frames == 20000 ? EncodecChunking.Default : new EncodecChunking { ChunkFrames = 40, ContextFrames = 8, CrossfadeFrames = 4 };
        var plan = c.Plan(frames);
        Assert.That(plan[0].Start, Is.Zero);
        Assert.That(plan[^1].End, Is.EqualTo(frames));
        for (int k = 0; k < plan.Count; k++)
        {
            CodecChunk p = plan[k];
            if (k > 0) Assert.That(p.Start, Is.EqualTo(plan[k - 1].End), "cores are contiguous");
            Assert.That(p.WindowFrames, Is.LessThanOrEqualTo(c.ChunkFrames));
            Assert.That(p.End - p.Start, Is.GreaterThanOrEqualTo(c.CoreFrames / 2));
            Assert.That(p.WindowStart, Is.EqualTo(Math.Max(0, p.Start - c.ContextFrames)));
            Assert.That(p.WindowEnd, Is.EqualTo(Math.Min(frames, p.End + c.ContextFrames)));
        }
    }

    [Test]
    public void SettingsThatCannotStitchAreRefused()
    {
        Assert.Throws<ArgumentException>(() => new EncodecChunking { ContextFrames = 4, CrossfadeFrames = 10 }.Validate());
        Assert.Throws<ArgumentException>(() => new EncodecChunking { CrossfadeFrames = 3 }.Validate());
        Assert.Throws<ArgumentException>(() => new EncodecChunking { ChunkFrames = 160, ContextFrames = 75 }.Validate());
        Assert.Throws<ArgumentException>(() => new EncodecChunking { ContextFrames = -1 }.Validate());
        Assert.DoesNotThrow(() => new EncodecChunking { ChunkFrames = 10, ContextFrames = 2, CrossfadeFrames = 0 }.Validate());
    }
}
