using VallE.Runtime.Cpu;

namespace VallE.Tests.Engine;

/// <summary>
/// The blocked attention of many-row segments (<see cref="BlockAttention"/>) equals the per-row path
/// (<see cref="RowAttention.Attend"/>) to float rounding: non-causal (NAR) and causal with a text prefix
/// (prefill), one-row segments (decode), row counts that leave partial blocks, key counts that leave vector tails, several segments in one pass.
/// </summary>
public sealed class BlockAttentionTests
{
    [TestCase(37, 64, 4, 0, false)]    // NAR-like: one partial block, 37 keys (16 + 16 + 5)
    [TestCase(29, 32, 2, 11, true)]    // prefill: text 11 (attends to text only), then causal audio
    [TestCase(5, 8, 1, 3, true)]       // short segment, narrow heads
    [TestCase(64, 64, 8, 0, false)]    // exact multiples
    [TestCase(1, 64, 4, 0, false)]     // one-row segments: the decode kernel (AttendRow)
    [TestCase(1, 20, 2, 0, false)]     // head dim 10: channel tail of the decode kernel
    public void BlockedEqualsPerRow(int length, int dim, int heads, int textLength, bool causal)
    {
        using var blockedBackend = new CpuBackend(2);
        using var perRowBackend = new CpuBackend(2, blockedAttention: false);
        if (!BlockAttention.IsSupported(blockedBackend, dim / heads)) Assert.Ignore("needs AVX2 + FMA");
        Assert.That(BlockAttention.IsSupported(perRowBackend, dim / heads), Is.False);
        var shape = new AttentionShape(0, dim, heads);
        var rng = new Random(length * 31 + dim);
        // Two sequences in one pass; the second starts after a history of 3 cached positions (as a batched prefill would not,
        // but a NAR segment may start anywhere) to check the row/position bookkeeping.
        int start2 = causal ? 0 : 3, rows = 2 * length;
        var caches = new[] { new KvCache(1, length + 8, dim), new KvCache(1, start2 + length + 8, dim) };
        var segments = new[]
        {
            new Segment(caches[0], Row: 0, Start: 0, Length: length, TextLength: textLength, Causal: causal),
            new Segment(caches[1], Row: length, Start: start2, Length: length, TextLength: textLength, Causal: causal),
        };
        var qkv = new float[rows * 3 * dim];
        foreach (var a in new[] { qkv, caches[0].Keys(0), caches[0].Values(0), caches[1].Keys(0), caches[1].Values(0) })
            for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 4 - 2);

        float[] Run(CpuBackend backend)
        {
            var attn = new float[rows * dim];
            new AttentionJob(backend).Run(shape, segments, qkv, 0, attn, 0, rows, start2 + length + 8);
            return attn;
        }

        var expected = Run(perRowBackend);
        var actual = Run(blockedBackend);
        Assert.That(actual.Any(float.IsNaN), Is.False);
        for (int i = 0; i < expected.Length; i++)
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(1e-5f + 1e-5f * Math.Abs(expected[i])), $"element {i}");
    }
}
