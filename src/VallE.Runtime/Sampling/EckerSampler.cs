using System.Numerics.Tensors;
using static VallE.Runtime.Sampling.LogitKeys;

namespace VallE.Runtime.Sampling;

/// <summary>
/// e-c-k-e-r/vall-e's sampler (upstream's <c>Base.sample</c> in <c>vall_e/models/base.py</c> with the filters of
/// <c>vall_e/samplers.py</c>, commit 73833ee), written from their semantics. One row of logits goes through, in
/// upstream's order:
/// <list type="number">
/// <item>repetition penalty (<see cref="RepetitionPenalty"/>): for each earlier token i of the history (every
///   occurrence, not once per distinct token), the token's logit is divided by <c>factor · (n − i)^decay</c>,
///   whatever its sign; n is the history length;</item>
/// <item>length penalty (AR only): the stop token's logit is divided by <c>(n + 1)^LengthPenalty</c>;</item>
/// <item>min-p on the untempered logits: tokens whose probability is below MinP × the top probability are removed,
///   except the 32 most likely (upstream's <c>min_tokens_to_keep=32</c>);</item>
/// <item>top-k (the k-th largest logit's ties survive), then top-p over what is left (the first token whose cumulative
///   probability exceeds TopP is the last one kept);</item>
/// <item>temperature: logits / T, or upstream's dynamic temperature when a minimum temperature is set
///   (<see cref="Temper"/>);</item>
/// <item>the pick (<see cref="Pick"/>): T ≤ 0 is the argmax (first index on ties); otherwise a draw from the softmax.</item>
/// </list>
/// Removed tokens become -inf, as upstream's <c>filter_value</c>. The draw is ours, not torch's: a Philox4x32-10
/// uniform (<see cref="TokenSampler.Uniform"/>, key = seed, counter = (step, stream)) walked through the cumulative
/// weights in token order. Same distribution as torch's <c>Categorical</c>, other tokens for the same seed.
/// Buffers are allocated once: sampling a row never allocates.
/// </summary>
/// <remarks>
/// Ties: upstream sorts with torch's (unstable) sort; here ties go lower index first. It matters only where tied logits
/// straddle a min-p rank-32 or top-p cut. The thresholds are computed in float64 (upstream: float32), so a token whose
/// cumulative probability is within float32 rounding of TopP may land on the other side.
/// </remarks>
public sealed class EckerSampler
{
    /// <summary>Upstream's <c>min_p_filtering(min_tokens_to_keep=32)</c>: min-p never removes the 32 most likely tokens.</summary>
    public const int MinPKeep = 32;

    public EckerSamplingOptions Options { get; }
    public int VocabSize { get; }
    /// <summary>The seed in use (the one given, or the random one picked when none was).</summary>
    public ulong Seed { get; }

    // Sort keys of one row: ascending key = descending logit, then ascending index (TokenSampler's encoding).
    private readonly ulong[] _keys;
    // exp(logit - max) of one row, for the draw.
    private readonly double[] _weights;

    public EckerSampler(EckerSamplingOptions options, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        options.Validate();
        Options = options;
        VocabSize = vocabSize;
        Seed = SamplerSeed.Resolve(options.Seed);
        _keys = new ulong[vocabSize];
        _weights = new double[vocabSize];
    }

    /// <summary>The Philox stream of NAR-len demasking step <paramref name="step"/> (the AR uses 0, NAR level L stream L).</summary>
    public static uint DemaskStream(int step) => 0x1_0000u + (uint)step;

    /// <summary>
    /// One AR step: <paramref name="history"/> = the tokens generated so far (upstream's <c>prev_list</c>), the length
    /// penalty on <paramref name="stopToken"/>, <see cref="EckerSamplingOptions.ArTemperature"/>; draw (step, stream 0).
    /// <paramref name="row"/> is scratch.
    /// </summary>
    public int SampleAr(Span<float> row, ReadOnlySpan<int> history, int stopToken, ulong step)
    {
        Filter(row, history, rows: 1, rowIndex: 0, stopToken);
        float t = Options.ArTemperature;
        Temper(row, t, Options.MinArTemperature);
        return Pick(row, t, step, stream: 0);
    }

    /// <summary>
    /// One NAR level: <paramref name="logits"/> <c>[T, V]</c> (scratch), <paramref name="previous"/> the level below's
    /// T codes (upstream's <c>prev_list[:, -1]</c>), <see cref="EckerSamplingOptions.NarTemperature"/>; row t draws at
    /// (step t, stream <paramref name="level"/>). No length penalty (upstream: AR only).
    /// </summary>
    public void SampleNar(Span<float> logits, ReadOnlySpan<int> previous, int level, Span<int> tokens)
    {
        int rows = previous.Length, v = VocabSize;
        if (logits.Length != rows * v) throw new ArgumentException($"expected {rows} x {v} logits, got {logits.Length}", nameof(logits));
        if (tokens.Length != rows) throw new ArgumentException($"expected {rows} tokens, got {tokens.Length}", nameof(tokens));
        float t = Options.NarTemperature;
        for (int r = 0; r < rows; r++)
        {
            var row = logits.Slice(r * v, v);
            Filter(row, previous, rows, r, stopToken: -1);
            Temper(row, t, Options.MinNarTemperature);
            tokens[r] = Pick(row, t, (ulong)r, (uint)level);
        }
    }

    /// <summary>
    /// Everything before the temperature, in place: repetition penalty, length penalty (when
    /// <paramref name="stopToken"/> &gt;= 0), min-p, top-k, top-p. <paramref name="rows"/> / <paramref name="rowIndex"/>:
    /// how many logit rows the step samples at once and which one this is (see <see cref="RepetitionPenalty"/>).
    /// </summary>
    public void Filter(Span<float> row, ReadOnlySpan<int> previous, int rows, int rowIndex, int stopToken)
    {
        CheckLength(row);
        RepetitionPenalty(row, previous, rows, rowIndex);
        if (stopToken >= 0 && Options.LengthPenalty != 0f)
        {
            if (stopToken >= row.Length) throw new ArgumentOutOfRangeException(nameof(stopToken), stopToken, "the stop token is outside the logits");
            row[stopToken] /= (float)Math.Pow(previous.Length + 1, Options.LengthPenalty);
        }
        if (Options.MinP > 0f || Options.TopK > 0 || Options.TopP < 1f) Truncate(row);
    }

    /// <summary>
    /// Upstream's <c>reptition_penalize</c>: occurrence i of the n-token history divides its token's logit by
    /// <c>factor · (n − i)^decay</c>, in history order, in float32. Upstream tells the NAR apart by
    /// <c>n == rows</c>, and then penalises row r with the occurrences before r only (<c>logits[i+1:, token]</c>). Its AR
    /// samples one row, so with exactly one token generated that same test holds and the AR step is not penalised at
    /// all; reproduced, as upstream's output.
    /// </summary>
    public void RepetitionPenalty(Span<float> row, ReadOnlySpan<int> previous, int rows, int rowIndex)
    {
        double factor = Options.RepetitionPenalty, decay = Options.RepetitionPenaltyDecay;
        int n = previous.Length;
        if (factor == 1.0 || n == 0) return;
        int end = n == rows ? rowIndex : n; // occurrences that reach this row
        for (int i = 0; i < end; i++)
        {
            int token = previous[i];
            if ((uint)token >= (uint)row.Length)
                throw new ArgumentOutOfRangeException(nameof(previous), token, $"earlier token {token} at {i} has no logit (vocabulary {row.Length})");
            double divisor = decay == 0.0 ? factor : factor * Math.Pow(n - i, decay);
            row[token] /= (float)divisor;
        }
    }

    /// <summary>
    /// min-p, then top-k, then top-p, over one descending sort of the row: each removes a tail of that order, and
    /// top-p's cumulative sum renormalises over what min-p and top-k left, as upstream's -inf logits do.
    /// </summary>
    private void Truncate(Span<float> row)
    {
        Span<ulong> keys = _keys;
        int finite = 0;
        for (int i = 0; i < row.Length; i++)
        {
            float l = row[i];
            if (float.IsNaN(l)) throw NonFinite("NaN");
            if (l == float.NegativeInfinity) continue;
            keys[finite++] = KeyOf(l, i);
        }
        if (finite == 0) throw AllMasked();
        keys = keys[..finite];
        keys.Sort();
        double max = row[IndexOf(keys[0])];
        if (double.IsPositiveInfinity(max)) throw NonFinite("+inf");
        int count = finite;

        double minP = Options.MinP;
        if (minP > 0)
        {
            // p_j < min_p · p_max  ⇔  exp(l_j − max) < min_p; the weights fall along the order, so a tail goes.
            int j = Math.Min(MinPKeep, count);
            while (j < count && Math.Exp(row[IndexOf(keys[j])] - max) >= minP) j++;
            count = j;
        }

        int topK = Options.TopK;
        if (topK > 0)
        {
            int k = Math.Min(topK, row.Length);
            // Fewer than k left: the k-th largest is -inf and nothing more goes (as torch.topk over -inf logits).
            if (k <= count)
            {
                float kth = row[IndexOf(keys[k - 1])];
                int j = k;
                while (j < count && row[IndexOf(keys[j])] == kth) j++;
                count = j;
            }
        }

        double topP = Options.TopP;
        if (topP < 1)
        {
            double total = 0;
            for (int j = 0; j < count; j++) total += Math.Exp(row[IndexOf(keys[j])] - max);
            double cumulative = 0;
            for (int j = 0; j < count; j++)
            {
                cumulative += Math.Exp(row[IndexOf(keys[j])] - max) / total;
                if (cumulative > topP)
                {
                    count = j + 1;
                    break;
                }
            }
        }

        for (int j = count; j < finite; j++) row[IndexOf(keys[j])] = float.NegativeInfinity;
    }

    /// <summary>
    /// Upstream's temperature step: with <paramref name="minTemperature"/> &lt; 0 it is <paramref name="temperature"/>
    /// itself; when the two differ by 0.001 or more, the dynamic temperature <c>T − (T − min) / (1 + e^(−10 (p − 0.5)))</c>
    /// (p: the top probability of the filtered row) divides the row; otherwise T &gt; 0 divides it and T ≤ 0 leaves it.
    /// </summary>
    public static void Temper(Span<float> row, float temperature, float minTemperature)
    {
        double t = temperature, min = minTemperature < 0 ? t : minTemperature;
        if (Math.Abs(t - min) >= 0.001)
        {
            double dynamic = t - (t - min) / (1 + Math.Exp(-10 * (TopProbability(row) - 0.5)));
            TensorPrimitives.Divide(row, (float)dynamic, row);
        }
        else if (temperature > 0f)
        {
            TensorPrimitives.Divide(row, temperature, row);
        }
    }

    /// <summary>
    /// The token: the argmax (first on ties) when <paramref name="temperature"/> ≤ 0, else a draw from the softmax of
    /// <paramref name="row"/> with the Philox uniform of (<paramref name="step"/>, <paramref name="stream"/>): the first
    /// token, in index order, whose cumulative weight exceeds u × total.
    /// </summary>
    public int Pick(ReadOnlySpan<float> row, float temperature, ulong step, uint stream)
    {
        int best = TokenSampler.ArgMax(row);
        float top = row[best];
        if (float.IsNaN(top)) throw NonFinite("NaN");
        if (top == float.NegativeInfinity) throw AllMasked();
        if (temperature <= 0f) return best;
        if (float.IsPositiveInfinity(top)) throw NonFinite("+inf");
        Span<double> w = _weights.AsSpan(0, row.Length);
        double total = 0;
        for (int i = 0; i < row.Length; i++) total += w[i] = Math.Exp(row[i] - (double)top);
        double target = TokenSampler.Uniform(Seed, step, stream) * total, cumulative = 0;
        int last = best;
        for (int i = 0; i < row.Length; i++)
        {
            if (w[i] == 0) continue;
            cumulative += w[i];
            last = i;
            if (cumulative > target) return i;
        }
        return last; // u · total rounded up to the total: the last token with weight owns that sliver
    }

    /// <summary>
    /// NAR-len's score of a row (upstream's <c>unfiltered_sampled.scores</c>: the same filters at temperature 0): the
    /// argmax of the filtered row and its softmax probability, after the dynamic temperature when
    /// <paramref name="minTemperature"/> ≥ 0.001 sets one at T = 0. Does not modify the row.
    /// </summary>
    public static (int Token, float Score) ArgMaxScore(ReadOnlySpan<float> row, float minTemperature)
    {
        int best = TokenSampler.ArgMax(row);
        double min = minTemperature < 0 ? 0 : minTemperature, divisor = 1;
        if (min >= 0.001) divisor = min / (1 + Math.Exp(-10 * (TopProbability(row) - 0.5)));
        return (best, ArgMaxProbability(row, best, divisor));
    }

    /// <summary>softmax(row / divisor)[best] for the argmax <paramref name="best"/>, accumulated in float64.</summary>
    public static float ArgMaxProbability(ReadOnlySpan<float> row, int best, double divisor = 1)
    {
        double max = row[best], sum = 0;
        foreach (float v in row) sum += Math.Exp((v - max) / divisor);
        return (float)(1 / sum);
    }

    /// <summary>
    /// For tests and tools: the distribution the pick draws from after <see cref="Filter"/> and <see cref="Temper"/>
    /// (the softmax of <paramref name="row"/>, one-hot at the argmax when <paramref name="temperature"/> ≤ 0).
    /// </summary>
    public static void Probabilities(ReadOnlySpan<float> row, float temperature, Span<double> probabilities)
    {
        int best = TokenSampler.ArgMax(row);
        probabilities.Clear();
        if (temperature <= 0f)
        {
            probabilities[best] = 1;
            return;
        }
        double max = row[best], total = 0;
        for (int i = 0; i < row.Length; i++) total += probabilities[i] = Math.Exp(row[i] - max);
        for (int i = 0; i < row.Length; i++) probabilities[i] /= total;
    }

    /// <summary>The largest softmax probability of a row (-inf entries weigh 0).</summary>
    private static double TopProbability(ReadOnlySpan<float> row)
    {
        double max = TensorPrimitives.Max(row), sum = 0;
        foreach (float v in row) sum += Math.Exp(v - max);
        return 1 / sum;
    }

    private void CheckLength(ReadOnlySpan<float> row)
    {
        if (row.Length != VocabSize) throw new ArgumentException($"expected {VocabSize} logits, got {row.Length}", nameof(row));
    }
}
