using System.Numerics.Tensors;
using static VallE.Runtime.Sampling.LogitKeys;

namespace VallE.Runtime.Sampling;

/// <summary>
/// Picks one token from a row of logits. One instance per sequence; buffers are allocated once in the
/// constructor, so <see cref="Sample"/> never allocates. This is THE sampler specification: the device sampler
/// (<c>valle_sample</c> in <c>native/kernels/sample.cu</c>) implements the same steps, so a seed gives the same
/// tokens on both (up to logit rounding: the device sums its weights in float32, this class in float64).
/// </summary>
/// <remarks>
/// The pipeline, in order (upstream's <c>topk_sampling</c> for temperature → top-k → top-p):
/// <list type="number">
/// <item>repetition penalty (CTRL): each distinct token among the last <c>RepetitionWindow</c> has its logit
///   divided by the penalty when positive, multiplied when negative;</item>
/// <item>temperature: <c>logits / T</c> in float32, only when T != 1 (as upstream);</item>
/// <item>sort: candidates by logit descending, lower index first on ties (a total order; torch's CPU sort
///   leaves the order of ties unspecified). Every later step, and the draw, walks this order;</item>
/// <item>top-k: every logit strictly below the k-th largest is removed, so ties with the k-th survive;</item>
/// <item>weights <c>e_j = exp(l_j - l_0)</c> in float32 over the top-k survivors (the largest is exactly 1);</item>
/// <item>top-p, on the top-k distribution: the first candidate whose cumulative probability exceeds
///   <c>TopP</c> is the last one kept (upstream's shift right with <c>min_tokens_to_keep = 1</c>);</item>
/// <item>min-p, on the same weights: candidates with <c>e_j &lt; MinP</c> (probability below MinP × the top
///   probability) are removed. Both filters keep a prefix of the sorted order, so the survivors are the
///   shorter prefix, whichever filter runs first; the top candidate always stays;</item>
/// <item>the draw (<see cref="Uniform"/>): <c>u</c> from Philox4x32-10 with key = seed and counter
///   {step lo, step hi, stream, 0}, where step counts this sequence's earlier <see cref="Sample"/> calls;
///   the token is the first survivor, in sorted order, whose cumulative weight exceeds <c>u × total</c>
///   (the last survivor if rounding leaves none).</item>
/// </list>
/// Greedy (<see cref="SamplingOptions.IsGreedy"/>) returns the argmax of the penalised logits, first index on
/// ties; it still advances the step, as the device's counter does. -inf logits are valid (never chosen). NaN
/// logits, +inf logits in a sampled step, and rows where every logit is -inf are reported as
/// <see cref="InvalidInputException"/>: they mean the model's weights or inputs are broken, and upstream's
/// <c>torch.multinomial</c> fails on them too (the device, which cannot throw, reads NaN as -inf).
/// </remarks>
public sealed class TokenSampler
{
    public SamplingOptions Options { get; }
    public int VocabSize { get; }
    /// <summary>The seed actually in use (the one given, or the random one picked when none was).</summary>
    public ulong Seed { get; }
    /// <summary>
    /// Philox counter word 2: the row index of a device <c>valle_sample</c> call. Engines sample one row per
    /// sequence, so they use 0, and a sequence's draws depend on its seed and step only (never on its place in a
    /// batch).
    /// </summary>
    public uint Stream { get; }
    /// <summary>The step of the next <see cref="Sample"/> call (the device's <c>rng_counter</c>): starts at 0.</summary>
    public ulong Step { get; set; }

    // Candidates as sortable keys: high 32 bits order logits descending, low 32 bits are the token index, so
    // a plain ascending sort gives upstream's order with a deterministic tie-break, and no comparer is needed.
    private readonly ulong[] _keys;
    // Generation stamps: "seen in this call" marks for the repetition window and the Filter mask, without
    // clearing an array every call.
    private readonly int[] _stamps;
    private int _generation;
    // exp(logit - max) of the candidates, in sorted order (SIMD exp; sums accumulate in float64).
    private readonly float[] _exps;

    public TokenSampler(SamplingOptions options, int vocabSize, uint stream = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        options.Validate();
        Options = options;
        VocabSize = vocabSize;
        Seed = SamplerSeed.Resolve(options.Seed);
        Stream = stream;
        _keys = new ulong[vocabSize];
        _stamps = new int[vocabSize];
        _exps = new float[vocabSize];
    }

    /// <summary>
    /// The uniform of a draw, in [0, 1): the top 24 bits of Philox4x32-10's first output word for key
    /// <paramref name="seed"/> and counter {low 32 bits of step, high 32 bits, stream, 0}, times 2^-24 (exact in
    /// float32, the device's type). Words Y, Z, W are unused.
    /// </summary>
    public static float Uniform(ulong seed, ulong step, uint stream)
    {
        uint x = Philox4x32.Generate(seed, (uint)step, (uint)(step >> 32), stream, 0).X;
        return (x >> 8) * (1f / (1 << 24));
    }

    /// <summary>
    /// Samples from <paramref name="logits"/> (length VocabSize; used as scratch and modified in place) and
    /// advances <see cref="Step"/>. <paramref name="recentTokens"/>: the sequence's previously generated tokens,
    /// for the repetition penalty.
    /// </summary>
    public int Sample(Span<float> logits, ReadOnlySpan<int> recentTokens)
    {
        CheckLength(logits);
        ulong step = Step++;
        ApplyRepetitionPenalty(logits, recentTokens);
        if (Options.IsGreedy) return CheckedArgMax(logits);
        ApplyTemperature(logits);
        int count = SelectCandidates(logits);
        return Draw(count, Uniform(Seed, step, Stream));
    }

    /// <summary>
    /// Applies everything but the draw: penalty, temperature and the filters, writing -inf over every removed
    /// logit (upstream's <c>filter_value</c>). Returns how many tokens survive. In greedy mode this is upstream's
    /// <c>top_k=1</c> filter (all ties of the maximum survive), without the temperature. Does not advance
    /// <see cref="Step"/>. For tests and tools; the generation loop calls <see cref="Sample"/>.
    /// </summary>
    public int Filter(Span<float> logits, ReadOnlySpan<int> recentTokens)
    {
        CheckLength(logits);
        ApplyRepetitionPenalty(logits, recentTokens);
        if (!Options.IsGreedy) ApplyTemperature(logits);
        int count = SelectCandidates(logits);
        int generation = NextGeneration();
        for (int j = 0; j < count; j++) _stamps[IndexOf(_keys[j])] = generation;
        for (int i = 0; i < logits.Length; i++)
            if (_stamps[i] != generation) logits[i] = float.NegativeInfinity;
        return count;
    }

    /// <summary>Index of the largest value; the first one on ties (as torch.argmax / topk on CPU).</summary>
    public static int ArgMax(ReadOnlySpan<float> values) => TensorPrimitives.IndexOfMax(values);

    private void CheckLength(Span<float> logits)
    {
        if (logits.Length != VocabSize)
            throw new ArgumentException($"expected {VocabSize} logits, got {logits.Length}", nameof(logits));
    }

    private static int CheckedArgMax(ReadOnlySpan<float> logits)
    {
        int best = ArgMax(logits); // IndexOfMax reports the first NaN, if any
        float value = logits[best];
        if (float.IsNaN(value)) throw NonFinite("NaN");
        if (value == float.NegativeInfinity) throw AllMasked();
        return best;
    }

    private void ApplyRepetitionPenalty(Span<float> logits, ReadOnlySpan<int> recentTokens)
    {
        float penalty = Options.RepetitionPenalty;
        int window = Math.Min(Options.RepetitionWindow, recentTokens.Length);
        if (penalty == 1f || window == 0) return;
        int generation = NextGeneration();
        foreach (int token in recentTokens[^window..])
        {
            // Tokens outside the vocabulary (e.g. BOS = 1025 in a 1025-logit row) have no logit to penalise;
            // a token repeated in the window is penalised once, as CTRL / Hugging Face do.
            if ((uint)token >= (uint)VocabSize || _stamps[token] == generation) continue;
            _stamps[token] = generation;
            float l = logits[token];
            logits[token] = l > 0f ? l / penalty : l * penalty;
        }
    }

    private void ApplyTemperature(Span<float> logits)
    {
        float t = Options.Temperature;
        if (t != 1f) TensorPrimitives.Divide(logits, t, logits);
    }

    /// <summary>
    /// Leaves the survivors' keys in _keys[0..count) in sorted order, their weights in _exps[0..count), and
    /// returns count.
    /// </summary>
    private int SelectCandidates(ReadOnlySpan<float> logits)
    {
        Span<ulong> keys = _keys;
        int count = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            float l = logits[i];
            if (l == float.NegativeInfinity) continue; // already filtered: zero probability
            if (!float.IsFinite(l)) throw NonFinite(float.IsNaN(l) ? "NaN" : "+inf");
            keys[count++] = KeyOf(l, i);
        }
        if (count == 0) throw AllMasked();

        int topK = Options.IsGreedy ? 1 : Options.TopK; // temperature 0 filters like top_k=1
        if (topK > 0 && topK < count) count = KeepTopK(keys[..count], logits, topK);
        keys[..count].Sort(); // descending logits, ascending index on ties: the order the draw walks
        ReadOnlySpan<float> e = RelativeExps(keys[..count], logits);
        int kept = count;
        if (Options.TopP < 1f) kept = Math.Min(kept, TopPCount(e, Options.TopP));
        if (Options.MinP > 0f) kept = Math.Min(kept, MinPCount(e, Options.MinP));
        return kept;
    }

    /// <summary>Partial selection (O(V)), then the ties of the k-th value, which upstream also keeps.</summary>
    private static int KeepTopK(Span<ulong> keys, ReadOnlySpan<float> logits, int k)
    {
        SelectNth(keys, k - 1);
        float kth = logits[IndexOf(keys[k - 1])];
        int kept = k;
        for (int j = k; j < keys.Length; j++)
        {
            if (logits[IndexOf(keys[j])] != kth) continue;
            (keys[kept], keys[j]) = (keys[j], keys[kept]);
            kept++;
        }
        return kept;
    }

    /// <summary>
    /// Upstream: remove[j] = cumsum(softmax)[j - 1] &gt; top_p, remove[0] = false. The cumulative sum only grows,
    /// so the survivors are a prefix ending at the first candidate whose cumulative probability exceeds top_p.
    /// </summary>
    private static int TopPCount(ReadOnlySpan<float> e, float topP)
    {
        // Summing probabilities (not weights, then dividing) as upstream's cumsum(softmax) does: they round apart
        // only when the cumulative probability lands exactly on top_p, e.g. six tied logits and top_p 0.5.
        double total = Sum(e), cumulative = 0;
        for (int j = 0; j < e.Length; j++)
        {
            cumulative += e[j] / total;
            if (cumulative > topP) return j + 1;
        }
        return e.Length;
    }

    /// <summary>p_j &gt;= min_p · p_max is e_j &gt;= min_p (e_0 = 1); e falls along the sorted order: a prefix.</summary>
    private static int MinPCount(ReadOnlySpan<float> e, float minP)
    {
        int n = 1; // e_0 = 1 >= min_p (Validate keeps min_p <= 1)
        while (n < e.Length && e[n] >= minP) n++;
        return n;
    }

    /// <summary>Inverse CDF over the survivors in sorted order: the first whose cumulative weight exceeds u · total.</summary>
    private int Draw(int count, float u)
    {
        if (count == 1) return IndexOf(_keys[0]);
        ReadOnlySpan<float> e = _exps.AsSpan(0, count);
        double target = u * Sum(e), cumulative = 0;
        for (int j = 0; j < count; j++)
        {
            cumulative += e[j];
            if (cumulative > target) return IndexOf(_keys[j]);
        }
        return IndexOf(_keys[count - 1]); // u · total rounded up to the total: the last survivor owns that sliver
    }

    /// <summary>exp(logit - max) of each (sorted) candidate: the unnormalised softmax, largest exactly 1.</summary>
    private ReadOnlySpan<float> RelativeExps(ReadOnlySpan<ulong> keys, ReadOnlySpan<float> logits)
    {
        Span<float> e = _exps.AsSpan(0, keys.Length);
        for (int j = 0; j < keys.Length; j++) e[j] = logits[IndexOf(keys[j])];
        TensorPrimitives.Subtract(e, e[0], e);
        TensorPrimitives.Exp(e, e);
        return e;
    }

    private static double Sum(ReadOnlySpan<float> values)
    {
        double total = 0;
        foreach (float v in values) total += v;
        return total;
    }

    private int NextGeneration()
    {
        if (++_generation == int.MaxValue)
        {
            Array.Clear(_stamps);
            _generation = 1;
        }
        return _generation;
    }

    /// <summary>Hoare quickselect: afterwards keys[n] is the n-th smallest and keys[..n] are all smaller.</summary>
    private static void SelectNth(Span<ulong> keys, int n)
    {
        int lo = 0, hi = keys.Length - 1;
        while (lo < hi)
        {
            int mid = lo + (hi - lo) / 2;
            ulong a = keys[lo], b = keys[mid], c = keys[hi];
            ulong pivot = Math.Max(Math.Min(a, b), Math.Min(Math.Max(a, b), c)); // median of three
            int i = lo, j = hi;
            while (i <= j)
            {
                while (keys[i] < pivot) i++;
                while (keys[j] > pivot) j--;
                if (i <= j)
                {
                    (keys[i], keys[j]) = (keys[j], keys[i]);
                    i++;
                    j--;
                }
            }
            if (n <= j) hi = j;
            else if (n >= i) lo = i;
            else return;
        }
    }
}
