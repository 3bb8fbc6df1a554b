using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using VallE.Runtime;
using VallE.Runtime.Codec;
using VallE.Runtime.Models;
using VallE.Runtime.Models.Ecker;
using VallE.Runtime.Sampling;
using VallE.Weights;
using VallE.Weights.IO;
using VallE.Weights.NumPy;

namespace VallE.Cli.Commands;

/// <summary>
/// <c>valle generate</c> on an e-c-k-e-r/vall-e checkpoint (<c>.sft</c>): <see cref="EckerModel"/> on the CPU.
/// --text-tokens are upstream's phoneme ids (with &lt;s&gt; 1 and &lt;/s&gt; 2), --prompt-codes the prompt's
/// <c>[T', 8]</c> codes, --text-language the language (upstream's name or id). Modes: <c>ar+nar</c> (default when the file's
/// capabilities have "ar") and <c>nar-len</c> (the len task, or --length, then --demask-steps of demasking with classifier-free
/// guidance --cfg-strength / --cfg-rescale). The frame cap is generate's --max-frames / --max-duration. Sampling is upstream's
/// (<see cref="EckerSampler"/>, seeded by --seed): --temperature is upstream's <c>ar_temperature</c> (the AR, and NAR-len
/// demasking annealed), --nar-temperature its <c>nar_temperature</c> (default 0 = greedy); --top-k, --top-p, --min-p,
/// --repetition-penalty and the ecker-only --repetition-penalty-decay, --length-penalty, --min-ar-temperature and
/// --min-nar-temperature apply as upstream's options of those names. --repetition-window (VALL-E's) is refused.
/// </summary>
internal sealed class EckerCliOptions
{
    private readonly Option<string?> _mode = new("--mode") { HelpName = "MODE", Description = "e-c-k-e-r/vall-e: ar+nar or nar-len (default: ar+nar when the model has an AR)." };
    private readonly Option<float?> _narTemperature = new("--nar-temperature") { HelpName = "T", Description = "e-c-k-e-r/vall-e: temperature of the NAR levels (0 = greedy, the default; the other sampler options apply too)." };
    private readonly Option<int?> _length = new("--length") { HelpName = "FRAMES", Description = "e-c-k-e-r/vall-e nar-len: frames to generate (default: the model's len task, then max(len, 75) x 1.05)." };
    private readonly Option<int?> _maxSteps = new("--demask-steps") { HelpName = "S", Description = "e-c-k-e-r/vall-e nar-len: demasking steps (upstream's max_steps, default 25)." };
    private readonly Option<float?> _cfgStrength = new("--cfg-strength") { HelpName = "C", Description = "e-c-k-e-r/vall-e nar-len: classifier-free guidance strength (default 2.5; upstream uses at least 2.5)." };
    private readonly Option<float?> _cfgRescale = new("--cfg-rescale") { HelpName = "R", Description = "e-c-k-e-r/vall-e nar-len: guidance rescale factor (default 0.75)." };
    private readonly Option<float?> _minArTemperature = new("--min-ar-temperature") { HelpName = "T", Description = "e-c-k-e-r/vall-e: minimum of upstream's dynamic temperature for the AR / NAR-len (default: off)." };
    private readonly Option<float?> _minNarTemperature = new("--min-nar-temperature") { HelpName = "T", Description = "e-c-k-e-r/vall-e: minimum of upstream's dynamic temperature for the NAR levels (default: off)." };
    private readonly Option<float?> _repetitionDecay = new("--repetition-penalty-decay") { HelpName = "D", Description = "e-c-k-e-r/vall-e: the repetition penalty divides by penalty x distance^D (default 0)." };
    private readonly Option<float?> _lengthPenalty = new("--length-penalty") { HelpName = "L", Description = "e-c-k-e-r/vall-e ar+nar: divide the AR stop logit by (length + 1)^L (default 0 = off; > 0 longer, < 0 shorter)." };

    /// <summary>The flag of each <see cref="EckerSamplingOptions"/> property, for the messages of its check.</summary>
    private static readonly Dictionary<string, string> Flags = new()
    {
        [nameof(EckerSamplingOptions.ArTemperature)] = "--temperature",
        [nameof(EckerSamplingOptions.NarTemperature)] = "--nar-temperature",
        [nameof(EckerSamplingOptions.MinArTemperature)] = "--min-ar-temperature",
        [nameof(EckerSamplingOptions.MinNarTemperature)] = "--min-nar-temperature",
        [nameof(EckerSamplingOptions.TopP)] = "--top-p",
        [nameof(EckerSamplingOptions.MinP)] = "--min-p",
        [nameof(EckerSamplingOptions.RepetitionPenalty)] = "--repetition-penalty",
        [nameof(EckerSamplingOptions.RepetitionPenaltyDecay)] = "--repetition-penalty-decay",
        [nameof(EckerSamplingOptions.LengthPenalty)] = "--length-penalty",
    };

    /// <summary>Upstream's language ids (e-c-k-e-r/vall-e <c>get_lang_symmap</c>).</summary>
    private static readonly string[] LanguageNames = ["en", "ja", "de", "fr", "zh", "ko"];

    public void AddTo(Command command)
    {
        foreach (var o in new Option[]
                 {
                     _mode, _narTemperature, _length, _maxSteps, _cfgStrength, _cfgRescale, _minArTemperature, _minNarTemperature,
                     _repetitionDecay, _lengthPenalty,
                 })
            command.Options.Add(o);
    }

    /// <summary>A VALL-E checkpoint: the ecker-only options are usage errors.</summary>
    public void RejectFor(ParseResult parse)
    {
        foreach (var (name, given) in new (string, bool)[]
                 {
                     ("--mode", parse.GetValue(_mode) is not null),
                     ("--nar-temperature", parse.GetValue(_narTemperature) is not null), ("--length", parse.GetValue(_length) is not null),
                     ("--demask-steps", parse.GetValue(_maxSteps) is not null), ("--cfg-strength", parse.GetValue(_cfgStrength) is not null),
                     ("--cfg-rescale", parse.GetValue(_cfgRescale) is not null),
                     ("--min-ar-temperature", parse.GetValue(_minArTemperature) is not null),
                     ("--min-nar-temperature", parse.GetValue(_minNarTemperature) is not null),
                     ("--repetition-penalty-decay", parse.GetValue(_repetitionDecay) is not null),
                     ("--length-penalty", parse.GetValue(_lengthPenalty) is not null),
                 })
            if (given) throw new UsageException($"{name} is an e-c-k-e-r/vall-e option; this checkpoint is not one");
    }

    /// <param name="textLanguage">generate's --text-language: a name or upstream's id (default en).</param>
    public int Generate(CliContext ctx, ParseResult parse, ModelCheckpoint checkpoint, EckerConfig config, long[] phonemes, AudioCodes prompt,
        string? textLanguage, SamplingOptions sampling, int? maxFrames, EngineOptions engine, string output)
    {
        string mode = parse.GetValue(_mode) ?? (config.Has("ar") ? "ar+nar" : config.Has("len") ? "nar-len" : "ar+nar");
        if (mode is not ("ar+nar" or "nar-len")) throw new UsageException($"--mode {mode}: expected ar+nar or nar-len");
        if (mode == "ar+nar" && !config.Has("ar")) throw new UsageException("--mode ar+nar: this model has no AR (capabilities: " + string.Join(",", config.DistinctCapabilities) + ")");
        if (mode == "nar-len" && !config.Has("len")) throw new UsageException("--mode nar-len: this model has no len task (capabilities: " + string.Join(",", config.DistinctCapabilities) + ")");
        int? length = parse.GetValue(_length), maxSteps = parse.GetValue(_maxSteps);
        float? cfgStrength = parse.GetValue(_cfgStrength), cfgRescale = parse.GetValue(_cfgRescale);
        if (mode != "nar-len" && (length is not null || maxSteps is not null || cfgStrength is not null || cfgRescale is not null))
            throw new UsageException("--length, --demask-steps, --cfg-strength and --cfg-rescale belong to --mode nar-len");
        if (length is < 1) throw new UsageException($"--length {length} must be >= 1");
        if (maxSteps is < 1) throw new UsageException($"--demask-steps {maxSteps} must be >= 1");
        if (cfgStrength is { } cs && !(float.IsFinite(cs) && cs >= 0)) throw new UsageException($"--cfg-strength {cs.ToString(CultureInfo.InvariantCulture)} must be a finite number >= 0");
        if (cfgRescale is { } cr && !(float.IsFinite(cr) && cr >= 0 && cr <= 1)) throw new UsageException($"--cfg-rescale {cr.ToString(CultureInfo.InvariantCulture)} must be in [0, 1]");
        EckerSamplingOptions samplingOptions = Sampling(parse, sampling, mode);
        int language = LanguageId(textLanguage);

        using var model = EckerModel.Load(checkpoint, engine.Threads, engine.WeightsDType);
        ctx.Cancellation.ThrowIfCancellationRequested();
        var request = new EckerRequest
        {
            PhonemeTokens = phonemes,
            PromptCodes = prompt,
            Language = language,
            MaxDuration = maxFrames ?? 12 * EncodecContract.FramesPerSecond,
            Sampling = samplingOptions,
        };
        var clock = Stopwatch.StartNew();
        AudioCodes codes;
        try
        {
            if (mode == "ar+nar")
            {
                codes = model.Generate(request, observer: null, ctx.Cancellation);
            }
            else
            {
                var demask = new EckerDemaskOptions { Length = length, Steps = maxSteps ?? 25 };
                if (cfgStrength is { } strength) demask = demask with { CfgStrength = strength };
                if (cfgRescale is { } rescale) demask = demask with { CfgRescale = rescale };
                codes = model.GenerateNarLen(request, demask, observer: null, ctx.Cancellation);
            }
        }
        catch (InvalidInputException e) when (e.Setting == nameof(EckerRequest.Language))
        {
            throw OptionErrors.WithFlag(e, " (--text-language)");
        }
        clock.Stop();
        Npy.WriteInt64(output, codes.Span, codes.Frames, codes.Codebooks);
        ctx.Info(string.Create(CultureInfo.InvariantCulture,
            $"generated {codes.Frames} frames ({codes.Frames / (double)EncodecContract.FramesPerSecond:F2} s, e-c-k-e-r/vall-e {mode}) in {clock.ElapsedMilliseconds} ms"));
        return ExitCodes.Success;
    }

    /// <summary>
    /// The sampler of every stage: generate's VALL-E options (--temperature = upstream's ar_temperature, --top-k, --top-p,
    /// --min-p, --repetition-penalty, --seed) plus the ecker ones. Usage errors for bad values and for options upstream
    /// does not apply in <paramref name="mode"/>.
    /// </summary>
    private EckerSamplingOptions Sampling(ParseResult parse, SamplingOptions sampling, string mode)
    {
        float? minAr = parse.GetValue(_minArTemperature), minNar = parse.GetValue(_minNarTemperature);
        float? decay = parse.GetValue(_repetitionDecay), length = parse.GetValue(_lengthPenalty);
        foreach (var (flag, value) in new[] { ("--min-ar-temperature", minAr), ("--min-nar-temperature", minNar) })
            if (value is { } m && !(float.IsFinite(m) && m >= 0f))
                throw new UsageException($"{flag} {m.ToString(CultureInfo.InvariantCulture)} must be a finite number >= 0 (leave it out to turn the dynamic temperature off)");
        if (mode == "nar-len")
        {
            // Upstream's demasking indexes the mask token (1024) in its 1024-class head when penalising: it fails.
            if (sampling.RepetitionPenalty != 1f || decay is not null)
                throw new UsageException("--repetition-penalty and --repetition-penalty-decay do not apply to --mode nar-len (upstream's demasking fails with a repetition penalty)");
            if (length is not null) throw new UsageException("--length-penalty applies to the AR only (--mode ar+nar)");
        }
        var options = EckerSamplingOptions.FromValle(sampling, parse.GetValue(_narTemperature) ?? 0f) with
        {
            MinArTemperature = minAr ?? -1f,
            MinNarTemperature = minNar ?? -1f,
            RepetitionPenaltyDecay = decay ?? 0f,
            LengthPenalty = length ?? 0f,
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw OptionErrors.ToUsage(e, Flags);
        }
        return options;
    }

    /// <summary>--text-language: a name (en, ja, de, fr, zh, ko) or upstream's id; default en (0).</summary>
    private static int LanguageId(string? value)
    {
        if (value is null) return 0;
        int byName = Array.IndexOf(LanguageNames, value.ToLowerInvariant());
        if (byName >= 0) return byName;
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int id)) return id;
        throw new UsageException($"--text-language {value}: expected a language name ({string.Join(", ", LanguageNames)}) or an id >= 0");
    }
}
