using VallE.Runtime.Sampling;

namespace VallE.Tests.Sampling;

/// <summary>
/// The sampler specification (TokenSampler's remarks, docs/engine.md "Sampling", valle_sample in valle_kernels.h)
/// restated step by step with full sorts and no cleverness: the CPU sampler and the device sampler are both
/// checked against it, and against each other.
/// </summary>
internal static class SamplerSpecReference
{
    /// <summary>Option sets that exercise every step, alone and together (CPU and GPU tests share them).</summary>
    public static readonly SamplingOptions[] Cases =
    [
        new() { TopK = -100, Temperature = 1f },
        new() { TopK = 10, Temperature = 0.7f },
        new() { TopK = -100, TopP = 0.8f, Temperature = 1.3f },
        new() { TopK = 50, TopP = 0.5f, Temperature = 1f },
        new() { MinP = 0.1f },
        new() { TopK = 20, MinP = 0.05f, TopP = 0.9f, RepetitionPenalty = 1.3f, RepetitionWindow = 16 },
        new() { RepetitionPenalty = 0.7f, RepetitionWindow = 1000 },
        new() { TopK = 1, RepetitionPenalty = 3f, RepetitionWindow = 8 },
    ];

    public static int Sample(float[] logits, SamplingOptions o, ulong seed, ulong step, uint stream, int[] history)
    {
        int vocab = logits.Length;
        var l = (float[])logits.Clone();
        // 1. repetition penalty, once per distinct in-vocabulary token of the window.
        if (o.RepetitionPenalty != 1f && o.RepetitionWindow > 0)
        {
            var seen = new HashSet<int>(history.Skip(Math.Max(0, history.Length - o.RepetitionWindow)).Where(t => t >= 0 && t < vocab));
            foreach (int t in seen) l[t] = l[t] > 0 ? l[t] / o.RepetitionPenalty : l[t] * o.RepetitionPenalty;
        }
        if (o.IsGreedy) return TokenSampler.ArgMax(l);
        // 2. temperature; 3. sort (logit descending, index ascending).
        if (o.Temperature != 1f) for (int i = 0; i < vocab; i++) l[i] /= o.Temperature;
        int[] order = Enumerable.Range(0, vocab).Where(i => l[i] != float.NegativeInfinity)
            .OrderByDescending(i => l[i]).ThenBy(i => i).ToArray();
        // 4. top-k keeps every logit >= the k-th largest.
        int keep = order.Length;
        if (o.TopK > 0 && o.TopK < keep)
        {
            float kth = l[order[o.TopK - 1]];
            keep = order.Count(i => l[i] >= kth);
        }
        // 5. weights relative to the top (float32 exp), cumulative sums.
        var e = new float[keep];
        for (int j = 0; j < keep; j++) e[j] = MathF.Exp(l[order[j]] - l[order[0]]);
        var prefix = new double[keep];
        double run = 0;
        for (int j = 0; j < keep; j++) prefix[j] = run += e[j];
        int kept = keep;
        // 6. top-p and min-p on the top-k distribution; the shorter prefix wins.
        if (o.TopP < 1f)
        {
            double cumulative = 0;
            for (int j = 0; j < keep; j++)
                if ((cumulative += e[j] / prefix[keep - 1]) > o.TopP) { kept = Math.Min(kept, j + 1); break; }
        }
        if (o.MinP > 0f)
        {
            int n = 1;
            while (n < keep && e[n] >= o.MinP) n++;
            kept = Math.Min(kept, n);
        }
        // 7. the draw: u from Philox4x32-10(seed, {step lo, step hi, stream, 0}).X, inverse CDF in sorted order.
        uint x = Philox4x32.Generate(seed, (uint)step, (uint)(step >> 32), stream, 0).X;
        double target = (x >> 8) / 16777216.0 * prefix[kept - 1];
        for (int j = 0; j < kept; j++)
            if (prefix[j] > target) return order[j];
        return order[kept - 1];
    }
}
