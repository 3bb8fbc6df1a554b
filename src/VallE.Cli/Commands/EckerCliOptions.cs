using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using VallE.Runtime;
using VallE.Runtime.Codec;
using VallE.Runtime.Cuda;
using VallE.Runtime.Models;
using VallE.Runtime.Models.Ecker;
using VallE.Runtime.Pipeline;
using VallE.Runtime.Sampling;
using VallE.Weights;
using VallE.Weights.IO;
using VallE.Weights.NumPy;

namespace VallE.Cli.Commands;

/// <summary>
/// The e-c-k-e-r/vall-e options of <c>valle generate</c> and <c>valle synth</c> (<c>.sft</c> checkpoints), read into one
/// <see cref="EckerSettings"/>; <c>generate</c> runs <see cref="EckerCodeGenerator"/> through the device factory.
/// --text-tokens are upstream's phoneme ids (with &lt;s&gt; 1 and &lt;/s&gt; 2), --prompt-codes the prompt's
/// <c>[T', 8]</c> codes, --text-language the language (upstream's name or id). Modes: <c>ar+nar</c> (default when the file's
/// capabilities have "ar") and <c>nar-len</c> (the len task, or --length, then --demask-steps of demasking with classifier-free
/// guidance --cfg-strength / --cfg-rescale). The frame cap is generate's --max-frames / --max-duration. Sampling is upstream's
/// (<see cref="EckerSampler"/>): the VALL-E sampler options with upstream's meanings (--temperature is its <c>ar_temperature</c>,
/// also NAR-len demasking's), --nar-temperature (<c>nar_temperature</c>, default 0 = greedy) for the NAR levels, and the ecker
/// ones (--min-ar-temperature, --min-nar-temperature, --repetition-penalty-decay, --length-penalty); draws seeded by --seed.
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

    /// <summary>
    /// The ecker settings of <paramref name="parse"/> for a model of <paramref name="config"/> (<c>generate</c> and
    /// <c>synth</c>): the mode (exit 2 for one the file lacks), the NAR-len options (exit 2 outside nar-len) and the
    /// sampler options (exit 2 for bad values and for penalties upstream does not apply in nar-len).
    /// </summary>
    public EckerSettings Read(ParseResult parse, EckerConfig config, SamplingOptions sampling)
    {
        try
        {
            return EckerSettings.Create(config, parse.GetValue(_mode), parse.GetValue(_length), parse.GetValue(_maxSteps),
                parse.GetValue(_cfgStrength), parse.GetValue(_cfgRescale), sampling, parse.GetValue(_narTemperature),
                parse.GetValue(_minArTemperature), parse.GetValue(_minNarTemperature), parse.GetValue(_repetitionDecay), parse.GetValue(_lengthPenalty));
        }
        catch (ArgumentException e)
        {
            throw OptionErrors.ToUsage(e, Flags);
        }
    }

    /// <summary>The flag of each property <see cref="EckerSettings.Create"/> may name.</summary>
    private static readonly Dictionary<string, string> Flags = new()
    {
        ["Mode"] = "--mode", ["Length"] = "--length", ["DemaskSteps"] = "--demask-steps", ["CfgStrength"] = "--cfg-strength",
        ["CfgRescale"] = "--cfg-rescale", ["NarTemperature"] = "--nar-temperature",
        [nameof(EckerSamplingOptions.ArTemperature)] = "--temperature",
        [nameof(EckerSamplingOptions.MinArTemperature)] = "--min-ar-temperature",
        [nameof(EckerSamplingOptions.MinNarTemperature)] = "--min-nar-temperature",
        [nameof(EckerSamplingOptions.TopP)] = "--top-p",
        [nameof(EckerSamplingOptions.MinP)] = "--min-p",
        [nameof(EckerSamplingOptions.RepetitionPenalty)] = "--repetition-penalty",
        [nameof(EckerSamplingOptions.RepetitionPenaltyDecay)] = "--repetition-penalty-decay",
        [nameof(EckerSamplingOptions.LengthPenalty)] = "--length-penalty",
        [nameof(SamplingOptions.RepetitionWindow)] = "--repetition-window",
    };

    /// <summary>
    /// <c>valle generate</c> on an ecker checkpoint: the request through <see cref="CodeGeneratorFactory"/> (CPU, or
    /// CUDA with --device cuda|auto), the codes to <paramref name="output"/>.
    /// </summary>
    /// <param name="textLanguage">generate's --text-language: a name or upstream's id (default en).</param>
    public int Generate(CliContext ctx, ParseResult parse, DeviceKind device, ModelCheckpoint checkpoint, EckerConfig config, long[] phonemes,
        AudioCodes prompt, string? textLanguage, SamplingOptions sampling, int? maxFrames, EngineOptions engine, string output)
    {
        var settings = Read(parse, config, sampling);
        LanguageId(textLanguage);   // a malformed one is a usage error before the model loads
        using var generator = DeviceCliOptions.CreateGenerator(ctx, device, checkpoint, engine, out var gpu);
        using var ownedGpu = gpu;
        ctx.Cancellation.ThrowIfCancellationRequested();
        var clock = Stopwatch.StartNew();
        GenerationResult result;
        try
        {
            result = generator.Generate(new GenerationRequest
            {
                TextTokens = phonemes,
                PromptCodes = prompt,
                TextLanguage = textLanguage,
                Sampling = sampling,
                MaxFrames = maxFrames,
                Ecker = settings,
            }, observer: null, ctx.Cancellation);
        }
        catch (InvalidInputException e) when (e.Setting == nameof(EckerRequest.Language))
        {
            throw OptionErrors.WithFlag(e, " (--text-language)");
        }
        clock.Stop();
        AudioCodes codes = result.Codes;
        Npy.WriteInt64(output, codes.Span, codes.Frames, codes.Codebooks);
        ctx.Info(string.Create(CultureInfo.InvariantCulture,
            $"generated {codes.Frames} frames ({codes.Frames / (double)EncodecContract.FramesPerSecond:F2} s, e-c-k-e-r/vall-e {EckerModes.Name(settings.Mode!.Value)}) in {clock.ElapsedMilliseconds} ms ({generator.Device})"));
        return ExitCodes.Success;
    }

    /// <summary>--text-language: a name (en, ja, de, fr, zh, ko) or upstream's id; default en (0).</summary>
    private static int LanguageId(string? value)
    {
        try { return EckerLanguages.Parse(value); }
        catch (InvalidInputException e) { throw new UsageException("--text-" + e.Message, e); }
    }
}
