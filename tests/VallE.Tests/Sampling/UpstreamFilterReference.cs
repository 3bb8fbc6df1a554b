namespace VallE.Tests.Sampling;

/// <summary>
/// A deliberately plain float64 re-statement of upstream's <c>topk_sampling</c> filtering (lifeiteng/vall-e and
/// VALL-E X share it): temperature on the float32 row, top-k keeps everything &gt;= the k-th largest value, top-p
/// sorts descending, removes entries whose cumulative softmax exceeds top_p, shifted right by one so the first
/// entry above the threshold stays, entry 0 always stays; min_tokens_to_keep = 1. Full sorts, no cleverness.
/// Ties in the top-p sort are ordered by ascending index (a stable descending sort), the order TokenSampler
/// documents. Min-p (not in upstream) keeps p_i &gt;= min_p · p_max. Returns the filtered row (-inf = removed).
/// </summary>
internal static class UpstreamFilterReference
{
    public static double[] Filter(float[] logits, int topK, float topP, float temperature, float minP = 0f)
    {
        int v = logits.Length;
        var x = new double[v];
        for (int i = 0; i < v; i++) x[i] = temperature != 1f ? logits[i] / temperature : logits[i];

        if (topK > 0)
        {
            int k = Math.Min(Math.Max(topK, 1), v);
            double[] sorted = x.OrderByDescending(d => d).ToArray();
            double kth = sorted[k - 1];
            for (int i = 0; i < v; i++) if (x[i] < kth) x[i] = double.NegativeInfinity;
        }

        if (topP < 1f)
        {
            int[] order = Enumerable.Range(0, v).OrderByDescending(i => x[i]).ToArray(); // LINQ sort is stable
            double max = x[order[0]];
            var e = order.Select(i => double.IsNegativeInfinity(x[i]) ? 0.0 : Math.Exp(x[i] - max)).ToArray();
            double z = e.Sum();
            var removeSorted = new bool[v];
            double cum = 0;
            for (int j = 0; j < v; j++)
            {
                cum += e[j] / z;
                removeSorted[j] = cum > topP;
            }
            var shifted = new bool[v];
            for (int j = 1; j < v; j++) shifted[j] = removeSorted[j - 1];
            shifted[0] = false;
            for (int j = 0; j < v; j++) if (shifted[j]) x[order[j]] = double.NegativeInfinity;
        }

        if (minP > 0f)
        {
            double max = x.Max();
            for (int i = 0; i < v; i++)
                if (!double.IsNegativeInfinity(x[i]) && Math.Exp(x[i] - max) < minP) x[i] = double.NegativeInfinity;
        }
        return x;
    }

    /// <summary>softmax of a filtered row, in float64.</summary>
    public static double[] Softmax(double[] x)
    {
        double max = x.Max();
        var e = x.Select(d => double.IsNegativeInfinity(d) ? 0.0 : Math.Exp(d - max)).ToArray();
        double z = e.Sum();
        return e.Select(d => d / z).ToArray();
    }
}
