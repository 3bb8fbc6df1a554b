namespace VallE.Runtime.Sampling;

/// <summary>
/// How the AR picks each token. Defaults are upstream's (<c>top_k=-100</c>, <c>top_p=1.0</c>, <c>temperature=1.0</c>):
/// a TopK &lt;= 0 disables top-k, TopP &gt;= 1 disables top-p, MinP 0 disables min-p, RepetitionPenalty 1 disables it.
/// <c>TopK == 1</c> is greedy (argmax), as upstream's <c>top_k=1</c>.
/// </summary>
public sealed record SamplingOptions
{
    public int TopK { get; init; } = -100;
    public float TopP { get; init; } = 1.0f;
    public float Temperature { get; init; } = 1.0f;
    public float MinP { get; init; }
    public float RepetitionPenalty { get; init; } = 1.0f;
    /// <summary>How many of the most recent tokens the repetition penalty looks at (0: none).</summary>
    public int RepetitionWindow { get; init; }
    /// <summary>Seed of the sampler's RNG; null picks one at random.</summary>
    public ulong? Seed { get; init; }

    public bool IsGreedy => TopK == 1;
}

/// <summary>
/// Picks one token from a row of logits. One instance per sequence (it owns that sequence's RNG stream);
/// buffers are allocated once in the constructor, so <see cref="Sample"/> never allocates.
/// </summary>
public sealed class TokenSampler
{
    public SamplingOptions Options { get; }
    public int VocabSize { get; }

    public TokenSampler(SamplingOptions options, int vocabSize)
    {
        Options = options;
        VocabSize = vocabSize;
    }

    /// <summary>
    /// Samples from <paramref name="logits"/> (length VocabSize; used as scratch and modified in place).
    /// <paramref name="recentTokens"/>: the sequence's previously generated tokens, for the repetition penalty.
    /// </summary>
    public int Sample(Span<float> logits, ReadOnlySpan<int> recentTokens)
    {
        if (!Options.IsGreedy) throw new NotImplementedException("only greedy sampling is implemented so far");
        return ArgMax(logits);
    }

    /// <summary>Index of the largest value; the first one on ties (as torch.argmax / topk on CPU).</summary>
    public static int ArgMax(ReadOnlySpan<float> values) => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(values);
}
