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
/// <see cref="GenerationRequest"/>'s): the mode, NAR-len's demasking settings and the NAR sampler. One record for every
/// entry point (<c>valle generate</c>/<c>synth</c>, the library, the server, the C ABI).
/// </summary>
public sealed record EckerSettings
{
    /// <summary>Null: <c>ar+nar</c> when the model has an AR, else <c>nar-len</c> (<see cref="EckerModes.Resolve"/>).</summary>
    public EckerMode? Mode { get; init; }
    /// <summary>NAR-len only: length, demasking steps, CFG strength and rescale.</summary>
    public EckerDemaskOptions Demask { get; init; } = new();
    /// <summary>How the NAR levels are picked (upstream's <c>nar_temperature</c>); null: greedy, as upstream's default.</summary>
    public SamplingOptions? NarSampling { get; init; }

    /// <summary>
    /// The settings a user asked for, checked against the model: every entry point (CLI flags, library options, server
    /// and C ABI fields) comes through here. An <see cref="ArgumentException"/> whose ParamName is the property
    /// (<c>Mode</c>, <c>Length</c>, <c>DemaskSteps</c>, <c>CfgStrength</c>, <c>CfgRescale</c>, <c>NarTemperature</c>)
    /// and whose message starts with it: an unknown mode or one the model lacks, NAR-len options with <c>ar+nar</c>,
    /// values out of range.
    /// </summary>
    /// <param name="mode">ar+nar or nar-len; null: the model's default.</param>
    /// <param name="sampling">the AR's sampler: the NAR sampler shares its filters and seed (not its repetition penalty).</param>
    /// <param name="narTemperature">the NAR's temperature; null or 0: greedy (upstream's default).</param>
    public static EckerSettings Create(EckerConfig config, string? mode, int? length, int? demaskSteps, float? cfgStrength, float? cfgRescale,
        SamplingOptions sampling, float? narTemperature)
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
        if (length is < 1) throw new ArgumentOutOfRangeException("Length", $"Length {length} must be >= 1 (frames, 75 a second)");
        if (demaskSteps is < 1) throw new ArgumentOutOfRangeException("DemaskSteps", $"DemaskSteps {demaskSteps} must be >= 1");
        if (cfgStrength is { } cs && !(float.IsFinite(cs) && cs >= 0))
            throw new ArgumentOutOfRangeException("CfgStrength", $"CfgStrength {Show(cs)} must be a finite number >= 0");
        if (cfgRescale is { } cr && !(cr >= 0 && cr <= 1))
            throw new ArgumentOutOfRangeException("CfgRescale", $"CfgRescale {Show(cr)} must be in [0, 1]");
        float nar = narTemperature ?? 0f;
        if (!float.IsFinite(nar) || nar < 0f)
            throw new ArgumentOutOfRangeException("NarTemperature", $"NarTemperature {Show(nar)} must be a finite number >= 0 (0 means greedy)");
        var demask = new EckerDemaskOptions { Length = length };
        if (demaskSteps is { } steps) demask = demask with { Steps = steps };
        if (cfgStrength is { } strength) demask = demask with { CfgStrength = strength };
        if (cfgRescale is { } rescale) demask = demask with { CfgRescale = rescale };
        return new EckerSettings
        {
            Mode = resolved,
            Demask = demask,
            // The NAR shares the filters and the seed (its own Philox streams), not the repetition penalty.
            NarSampling = nar == 0f ? null : sampling with { Temperature = nar, RepetitionPenalty = 1f },
        };
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
