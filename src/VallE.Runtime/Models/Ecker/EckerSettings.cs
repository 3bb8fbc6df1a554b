using System.Globalization;
using VallE.Runtime.Sampling;
using VallE.Weights;

namespace VallE.Runtime.Models.Ecker;

/// <summary>How an e-c-k-e-r/vall-e model makes level 0.</summary>
public enum EckerMode
{
    /// <summary>The AR (level 0, stop token), then the NAR levels: upstream's <c>ar+nar</c>.</summary>
    ArNar,
    /// <summary>The len task (or a given length), demasking with CFG, then the NAR levels: upstream's <c>nar-len</c>.</summary>
    NarLen,
}

/// <summary>
/// What an ecker generation takes besides the phonemes, the prompt, the language and the AR sampler (those are the
/// <see cref="GenerationRequest"/>'s): the mode, NAR-len's demasking settings and the sampler options only this family
/// has. One record for every entry point (<c>valle generate</c>/<c>synth</c>, the library, the server, the C ABI).
/// </summary>
public sealed record EckerSettings
{
    /// <summary>Null: <c>ar+nar</c> when the model has an AR, else <c>nar-len</c> (<see cref="EckerModes.Resolve"/>).</summary>
    public EckerMode? Mode { get; init; }
    /// <summary>NAR-len only: length, demasking steps, CFG strength and rescale.</summary>
    public EckerDemaskOptions Demask { get; init; } = new();
    /// <summary>Upstream's <c>nar_temperature</c> (NAR levels 1..); 0: greedy, upstream's default.</summary>
    public float NarTemperature { get; init; }
    /// <summary>Upstream's <c>min_ar_temperature</c> (&lt; 0: off): <see cref="EckerSamplingOptions.MinArTemperature"/>.</summary>
    public float MinArTemperature { get; init; } = -1f;
    /// <summary>Upstream's <c>min_nar_temperature</c> (&lt; 0: off): <see cref="EckerSamplingOptions.MinNarTemperature"/>.</summary>
    public float MinNarTemperature { get; init; } = -1f;
    /// <summary>Upstream's <c>repetition_penalty_decay</c> (0: none): <see cref="EckerSamplingOptions.RepetitionPenaltyDecay"/>.</summary>
    public float RepetitionPenaltyDecay { get; init; }
    /// <summary>Upstream's <c>length_penalty</c> (0: off; AR only): <see cref="EckerSamplingOptions.LengthPenalty"/>.</summary>
    public float LengthPenalty { get; init; }

    /// <summary>
    /// The whole request's sampler: the AR's options (<paramref name="ar"/>: temperature, top-k, top-p, min-p, repetition
    /// penalty, seed; null: greedy) with this family's own. <see cref="ArgumentOutOfRangeException"/> for a repetition
    /// window (no upstream counterpart).
    /// </summary>
    public EckerSamplingOptions SamplingFor(SamplingOptions? ar) =>
        (ar is null ? EckerSamplingOptions.Greedy : EckerSamplingOptions.FromValle(ar)) with
        {
            NarTemperature = NarTemperature,
            MinArTemperature = MinArTemperature,
            MinNarTemperature = MinNarTemperature,
            RepetitionPenaltyDecay = RepetitionPenaltyDecay,
            LengthPenalty = LengthPenalty,
        };

    /// <summary>
    /// The settings a user asked for, checked against the model: every entry point (CLI flags, library options, server
    /// and C ABI fields) comes through here. An <see cref="ArgumentException"/> whose ParamName is the property
    /// (<c>Mode</c>, <c>Length</c>, <c>DemaskSteps</c>, <c>CfgStrength</c>, <c>CfgRescale</c>, <c>NarTemperature</c>,
    /// <c>MinArTemperature</c>, <c>MinNarTemperature</c>, <c>RepetitionPenalty</c>, <c>RepetitionPenaltyDecay</c>,
    /// <c>LengthPenalty</c>, <c>RepetitionWindow</c>) and whose message starts with it: an unknown mode or one the model
    /// lacks, NAR-len options with <c>ar+nar</c>, penalties upstream does not apply in <c>nar-len</c>, values out of range.
    /// </summary>
    /// <param name="mode">ar+nar or nar-len; null: the model's default.</param>
    /// <param name="sampling">the AR's sampler (its filters, repetition penalty and seed are the whole request's).</param>
    /// <param name="narTemperature">the NAR's temperature; null or 0: greedy (upstream's default).</param>
    /// <param name="minArTemperature">null: off (upstream's -1).</param>
    /// <param name="minNarTemperature">null: off (upstream's -1).</param>
    /// <param name="repetitionPenaltyDecay">null: 0.</param>
    /// <param name="lengthPenalty">null: 0 (off).</param>
    public static EckerSettings Create(EckerConfig config, string? mode, int? length, int? demaskSteps, float? cfgStrength, float? cfgRescale,
        SamplingOptions sampling, float? narTemperature, float? minArTemperature = null, float? minNarTemperature = null,
        float? repetitionPenaltyDecay = null, float? lengthPenalty = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(sampling);
        EckerMode? requested = null;
        if (mode is not null)
            requested = EckerModes.Parse(mode) ?? throw new ArgumentException($"Mode '{mode}' is not ar+nar or nar-len", "Mode");
        EckerMode resolved;
        try { resolved = EckerModes.Resolve(config, requested); }
        catch (InvalidInputException e) { throw new ArgumentException("M" + e.Message[1..], "Mode"); }   // a usage error, not a bad input
        string? narLenOnly = length is not null ? "Length" : demaskSteps is not null ? "DemaskSteps"
            : cfgStrength is not null ? "CfgStrength" : cfgRescale is not null ? "CfgRescale" : null;
        if (resolved != EckerMode.NarLen && narLenOnly is not null)
            throw new ArgumentException($"{narLenOnly} belongs to mode nar-len (as the demask steps and CFG settings); this request runs {EckerModes.Name(resolved)}", narLenOnly);
        if (resolved == EckerMode.NarLen)
        {
            // Upstream's demasking penalises with the mask token (1024) as an index into its 1024-class head: it fails.
            if (sampling.RepetitionPenalty != 1f)
                throw new ArgumentException($"RepetitionPenalty {Show(sampling.RepetitionPenalty)} does not apply to mode nar-len (upstream's demasking fails with a repetition penalty)", "RepetitionPenalty");
            if (repetitionPenaltyDecay is not null)
                throw new ArgumentException("RepetitionPenaltyDecay does not apply to mode nar-len (it has no repetition penalty)", "RepetitionPenaltyDecay");
            if (lengthPenalty is not null)
                throw new ArgumentException("LengthPenalty applies to the AR only (mode ar+nar)", "LengthPenalty");
        }
        if (length is < 1) throw new ArgumentOutOfRangeException("Length", $"Length {length} must be >= 1 (frames, 75 a second)");
        if (demaskSteps is < 1) throw new ArgumentOutOfRangeException("DemaskSteps", $"DemaskSteps {demaskSteps} must be >= 1");
        if (cfgStrength is { } cs && !(float.IsFinite(cs) && cs >= 0))
            throw new ArgumentOutOfRangeException("CfgStrength", $"CfgStrength {Show(cs)} must be a finite number >= 0");
        if (cfgRescale is { } cr && !(cr >= 0 && cr <= 1))
            throw new ArgumentOutOfRangeException("CfgRescale", $"CfgRescale {Show(cr)} must be in [0, 1]");
        foreach (var (name, value) in new[] { ("MinArTemperature", minArTemperature), ("MinNarTemperature", minNarTemperature) })
            if (value is { } m && !(float.IsFinite(m) && m >= 0f))
                throw new ArgumentOutOfRangeException(name, $"{name} {Show(m)} must be a finite number >= 0 (leave it out to turn the dynamic temperature off)");
        var demask = new EckerDemaskOptions { Length = length };
        if (demaskSteps is { } steps) demask = demask with { Steps = steps };
        if (cfgStrength is { } strength) demask = demask with { CfgStrength = strength };
        if (cfgRescale is { } rescale) demask = demask with { CfgRescale = rescale };
        var settings = new EckerSettings
        {
            Mode = resolved,
            Demask = demask,
            NarTemperature = narTemperature ?? 0f,
            MinArTemperature = minArTemperature ?? -1f,
            MinNarTemperature = minNarTemperature ?? -1f,
            RepetitionPenaltyDecay = repetitionPenaltyDecay ?? 0f,
            LengthPenalty = lengthPenalty ?? 0f,
        };
        settings.SamplingFor(sampling).Validate();   // ArgumentOutOfRangeException naming the property
        return settings;
    }

    private static string Show(float v) => v.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Mode names and the rule that picks one for a model.</summary>
public static class EckerModes
{
    /// <summary>The mode's name as upstream and the CLI write it (<c>ar+nar</c>, <c>nar-len</c>).</summary>
    public static string Name(EckerMode mode) => mode == EckerMode.NarLen ? "nar-len" : "ar+nar";

    /// <summary>A mode name (<c>ar+nar</c>, <c>nar-len</c>), or null when it is neither.</summary>
    public static EckerMode? Parse(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "ar+nar" => EckerMode.ArNar,
        "nar-len" => EckerMode.NarLen,
        _ => null,
    };

    /// <summary>
    /// The mode to run: <paramref name="requested"/>, or the model's default (<c>ar+nar</c> when it has an AR). An
    /// <see cref="InvalidInputException"/> (Setting <c>Mode</c>) when the model lacks the mode's head.
    /// </summary>
    public static EckerMode Resolve(EckerConfig config, EckerMode? requested)
    {
        ArgumentNullException.ThrowIfNull(config);
        EckerMode mode = requested ?? (config.Has("ar") || !config.Has("len") ? EckerMode.ArNar : EckerMode.NarLen);
        string? lacks = mode == EckerMode.ArNar ? (config.Has("ar") ? null : "no AR") : (config.Has("len") ? null : "no len task");
        if (lacks is not null)
            throw new InvalidInputException($"mode {Name(mode)}: this model has {lacks} (capabilities: {string.Join(",", config.DistinctCapabilities)})")
            {
                Setting = "Mode",
            };
        return mode;
    }
}

/// <summary>Upstream's language ids (<c>get_lang_symmap</c>): en 0, ja 1, de 2, fr 3, zh 4, ko 5.</summary>
public static class EckerLanguages
{
    /// <summary>The names, in id order.</summary>
    public static readonly IReadOnlyList<string> Names = ["en", "ja", "de", "fr", "zh", "ko"];

    /// <summary>Upstream's id of a name, or -1.</summary>
    public static int IdOf(string name) => Names.ToList().IndexOf(name);

    /// <summary>
    /// A language name or upstream's id as text (<c>null</c>: en, 0). An <see cref="InvalidInputException"/> (Setting
    /// <c>TextLanguage</c>) for anything else; whether the model has the id is the model's check.
    /// </summary>
    public static int Parse(string? value)
    {
        if (value is null) return 0;
        int byName = IdOf(value.Trim().ToLowerInvariant());
        if (byName >= 0) return byName;
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int id)) return id;
        throw new InvalidInputException($"language '{value}': expected a language name ({string.Join(", ", Names)}) or an id >= 0")
        {
            Setting = "TextLanguage",
        };
    }
}
