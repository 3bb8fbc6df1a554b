namespace VallE.Runtime.Sampling;

/// <summary>
/// How the AR picks each token. Defaults are upstream's (<c>top_k=-100</c>, <c>top_p=1.0</c>, <c>temperature=1.0</c>):
/// a TopK &lt;= 0 disables top-k, TopP &gt;= 1 disables top-p, MinP 0 disables min-p, RepetitionPenalty 1 disables it.
/// <c>TopK == 1</c> is greedy (argmax), as upstream's <c>top_k=1</c>; so is <c>Temperature == 0</c>.
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

    /// <summary>Argmax decoding: top-k 1 (upstream's greedy) or temperature 0 (the limit of T → 0).</summary>
    public bool IsGreedy => TopK == 1 || Temperature == 0f;

    /// <summary>
    /// The one check of these values (the CLI calls it before loading anything, the sampler again on use): throws
    /// <see cref="ArgumentOutOfRangeException"/> whose <see cref="ArgumentException.ParamName"/> is the property
    /// and whose message starts with it ("TopP 1.5 must be in [0, 1] ..."). Negative, NaN or infinite temperatures
    /// are rejected rather than guessed at (upstream would silently flip the distribution).
    /// </summary>
    public void Validate()
    {
        if (!float.IsFinite(Temperature) || Temperature < 0f)
            throw Bad(nameof(Temperature), $"{Show(Temperature)} must be a finite number >= 0 (0 means greedy)");
        if (!(TopP >= 0f && TopP <= 1f))
            throw Bad(nameof(TopP), $"{Show(TopP)} must be in [0, 1] (1 disables it; 0 keeps only the most likely token)");
        if (!(MinP >= 0f && MinP <= 1f))
            throw Bad(nameof(MinP), $"{Show(MinP)} must be in [0, 1] (0 disables it)");
        if (!float.IsFinite(RepetitionPenalty) || RepetitionPenalty <= 0f)
            throw Bad(nameof(RepetitionPenalty), $"{Show(RepetitionPenalty)} must be a finite number > 0 (1 disables it)");
        if (RepetitionWindow < 0)
            throw Bad(nameof(RepetitionWindow), $"{RepetitionWindow} must be >= 0");
    }

    private static ArgumentOutOfRangeException Bad(string property, string rest) => new(property, $"{property} {rest}");

    private static string Show(float v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
