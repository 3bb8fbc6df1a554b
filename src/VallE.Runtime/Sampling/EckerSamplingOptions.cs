namespace VallE.Runtime.Sampling;

/// <summary>
/// How an e-c-k-e-r/vall-e model picks its tokens: the sampler options of upstream's inference (<c>vall_e/__main__.py</c> /
/// the web UI at commit 73833ee) that change the output of its default sampler, with upstream's meanings and defaults.
/// One record for the whole request: as upstream, the filters and penalties are shared by the AR, the NAR levels and
/// NAR-len demasking; only the temperatures are per stage. <see cref="EckerSampler"/> applies them.
/// </summary>
public sealed record EckerSamplingOptions
{
    /// <summary>Upstream's <c>ar_temperature</c> (CLI default 1): the AR's, and NAR-len demasking's (annealed). 0: greedy.</summary>
    public float ArTemperature { get; init; } = 1f;
    /// <summary>Upstream's <c>nar_temperature</c> (CLI default 0 = greedy): NAR levels 1...</summary>
    public float NarTemperature { get; init; }
    /// <summary>
    /// Upstream's <c>min_ar_temperature</c> (default -1): below 0 means "the temperature itself", i.e. off. Otherwise,
    /// when it differs from the temperature by 0.001 or more, upstream's dynamic temperature replaces the plain one.
    /// </summary>
    public float MinArTemperature { get; init; } = -1f;
    /// <summary>Upstream's <c>min_nar_temperature</c> (default -1 = off), as <see cref="MinArTemperature"/> for the NAR levels.</summary>
    public float MinNarTemperature { get; init; } = -1f;
    /// <summary>Keep the K largest logits and their ties (&lt;= 0: off, upstream's default 0).</summary>
    public int TopK { get; init; }
    /// <summary>Nucleus threshold in [0, 1] (1: off).</summary>
    public float TopP { get; init; } = 1f;
    /// <summary>In [0, 1] (0: off): drop tokens below MinP × the top probability, but never the 32 most likely.</summary>
    public float MinP { get; init; }
    /// <summary>&gt; 0 (1: off): every earlier occurrence of a token divides its logit by <c>factor · distance^decay</c>.</summary>
    public float RepetitionPenalty { get; init; } = 1f;
    /// <summary>Upstream's <c>repetition_penalty_decay</c> (default 0): the exponent of the distance above.</summary>
    public float RepetitionPenaltyDecay { get; init; }
    /// <summary>AR only (0: off): the stop token's logit is divided by <c>(generated + 1)^LengthPenalty</c>.</summary>
    public float LengthPenalty { get; init; }
    /// <summary>Seed of the Philox draws; null picks one at random.</summary>
    public ulong? Seed { get; init; }

    /// <summary>Argmax everywhere and nothing else: upstream with <c>ar_temperature=0, nar_temperature=0</c> and default filters.</summary>
    public static EckerSamplingOptions Greedy { get; } = new() { ArTemperature = 0f };

    /// <summary>
    /// The VALL-E sampler options as the ecker CLI reads them: <see cref="SamplingOptions.Temperature"/> is the AR
    /// temperature; top-k, top-p, min-p, the repetition penalty and the seed carry over. A repetition window has no
    /// upstream counterpart (the penalty spans the whole history) and is refused.
    /// </summary>
    public static EckerSamplingOptions FromValle(SamplingOptions sampling, float narTemperature = 0f)
    {
        ArgumentNullException.ThrowIfNull(sampling);
        if (sampling.RepetitionWindow != 0)
            throw new ArgumentOutOfRangeException(nameof(SamplingOptions.RepetitionWindow), sampling.RepetitionWindow,
                "RepetitionWindow has no e-c-k-e-r/vall-e counterpart: its repetition penalty covers every earlier token (use RepetitionPenaltyDecay)");
        return new EckerSamplingOptions
        {
            ArTemperature = sampling.Temperature,
            NarTemperature = narTemperature,
            TopK = sampling.TopK,
            TopP = sampling.TopP,
            MinP = sampling.MinP,
            RepetitionPenalty = sampling.RepetitionPenalty,
            Seed = sampling.Seed,
        };
    }

    /// <summary>
    /// Throws <see cref="ArgumentOutOfRangeException"/> whose ParamName is the property and whose message starts with
    /// it ("TopP 1.5 must be ..."), as <see cref="SamplingOptions.Validate"/>. Values upstream accepts but turns into
    /// inf/NaN logits (a negative temperature, a penalty of 0) are refused.
    /// </summary>
    public void Validate()
    {
        if (!float.IsFinite(ArTemperature) || ArTemperature < 0f) throw Bad(nameof(ArTemperature), ArTemperature, "must be a finite number >= 0 (0 means greedy)");
        if (!float.IsFinite(NarTemperature) || NarTemperature < 0f) throw Bad(nameof(NarTemperature), NarTemperature, "must be a finite number >= 0 (0 means greedy)");
        if (!float.IsFinite(MinArTemperature)) throw Bad(nameof(MinArTemperature), MinArTemperature, "must be a finite number (< 0 disables it)");
        if (!float.IsFinite(MinNarTemperature)) throw Bad(nameof(MinNarTemperature), MinNarTemperature, "must be a finite number (< 0 disables it)");
        if (!(TopP >= 0f && TopP <= 1f)) throw Bad(nameof(TopP), TopP, "must be in [0, 1] (1 disables it)");
        if (!(MinP >= 0f && MinP <= 1f)) throw Bad(nameof(MinP), MinP, "must be in [0, 1] (0 disables it)");
        if (!float.IsFinite(RepetitionPenalty) || RepetitionPenalty <= 0f) throw Bad(nameof(RepetitionPenalty), RepetitionPenalty, "must be a finite number > 0 (1 disables it)");
        if (!float.IsFinite(RepetitionPenaltyDecay)) throw Bad(nameof(RepetitionPenaltyDecay), RepetitionPenaltyDecay, "must be a finite number (0: no decay)");
        if (!float.IsFinite(LengthPenalty)) throw Bad(nameof(LengthPenalty), LengthPenalty, "must be a finite number (0 disables it)");
    }

    private static ArgumentOutOfRangeException Bad(string property, float value, string rest) =>
        new(property, $"{property} {value.ToString(System.Globalization.CultureInfo.InvariantCulture)} {rest}");
}
