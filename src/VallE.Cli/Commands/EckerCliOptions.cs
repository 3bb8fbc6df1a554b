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
/// <c>[T', 8]</c> codes, --language-id upstream's language id. Modes: <c>ar+nar</c> (default when the file's capabilities
/// have "ar") and <c>nar-len</c> (the len task, or --length, then demasking with --max-steps; greedy). The VALL-E sampler
/// options drive the AR (upstream's <c>ar_temperature</c> is --temperature); --nar-temperature (upstream's
/// <c>nar_temperature</c>, default 0 = greedy) the NAR levels. Each is a <see cref="TokenSampler"/> seeded by --seed.
/// </summary>
internal sealed class EckerCliOptions
{
    private readonly Option<int?> _language = new("--language-id") { HelpName = "N", Description = "e-c-k-e-r/vall-e: language id (upstream: en 0, ja 1, de 2, fr 3, zh 4, ko 5; default 0)." };
    private readonly Option<string?> _mode = new("--mode") { HelpName = "MODE", Description = "e-c-k-e-r/vall-e: ar+nar or nar-len (default: ar+nar when the model has an AR)." };
    private readonly Option<float?> _narTemperature = new("--nar-temperature") { HelpName = "T", Description = "e-c-k-e-r/vall-e: temperature of the NAR levels (0 = greedy, the default; the other sampler options apply too)." };
    private readonly Option<int?> _length = new("--length") { HelpName = "FRAMES", Description = "e-c-k-e-r/vall-e nar-len: frames to generate (default: the model's len task, then max(len, 75) x 1.05)." };
    private readonly Option<int?> _maxSteps = new("--max-steps") { HelpName = "N", Description = "e-c-k-e-r/vall-e nar-len: demasking steps (upstream's max_steps, default 25)." };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { _language, _mode, _narTemperature, _length, _maxSteps }) command.Options.Add(o);
    }

    /// <summary>A VALL-E checkpoint: the ecker-only options are usage errors.</summary>
    public void RejectFor(ParseResult parse)
    {
        foreach (var (name, given) in new (string, bool)[]
                 {
                     ("--language-id", parse.GetValue(_language) is not null), ("--mode", parse.GetValue(_mode) is not null),
                     ("--nar-temperature", parse.GetValue(_narTemperature) is not null), ("--length", parse.GetValue(_length) is not null),
                     ("--max-steps", parse.GetValue(_maxSteps) is not null),
                 })
            if (given) throw new UsageException($"{name} is an e-c-k-e-r/vall-e option; this checkpoint is not one");
    }

    public int Generate(CliContext ctx, ParseResult parse, ModelCheckpoint checkpoint, EckerConfig config, long[] phonemes, AudioCodes prompt,
        SamplingOptions sampling, int? maxFrames, EngineOptions engine, string output)
    {
        string mode = parse.GetValue(_mode) ?? (config.Has("ar") ? "ar+nar" : config.Has("len") ? "nar-len" : "ar+nar");
        if (mode is not ("ar+nar" or "nar-len")) throw new UsageException($"--mode {mode}: expected ar+nar or nar-len");
        if (mode == "ar+nar" && !config.Has("ar")) throw new UsageException("--mode ar+nar: this model has no AR (capabilities: " + string.Join(",", config.DistinctCapabilities) + ")");
        if (mode == "nar-len" && !config.Has("len")) throw new UsageException("--mode nar-len: this model has no len task (capabilities: " + string.Join(",", config.DistinctCapabilities) + ")");
        int? length = parse.GetValue(_length), maxSteps = parse.GetValue(_maxSteps);
        if (mode != "nar-len" && (length is not null || maxSteps is not null)) throw new UsageException("--length and --max-steps belong to --mode nar-len");
        if (length is < 1) throw new UsageException($"--length {length} must be >= 1");
        if (maxSteps is < 1) throw new UsageException($"--max-steps {maxSteps} must be >= 1");
        float nar = parse.GetValue(_narTemperature) ?? 0f;
        if (!float.IsFinite(nar) || nar < 0f) throw new UsageException($"--nar-temperature {nar.ToString(CultureInfo.InvariantCulture)} must be a finite number >= 0 (0 means greedy)");
        int language = parse.GetValue(_language) ?? 0;
        if (language < 0) throw new UsageException($"--language-id {language} must be >= 0");

        using var model = EckerModel.Load(checkpoint, engine.Threads, engine.WeightsDType);
        ctx.Cancellation.ThrowIfCancellationRequested();
        var request = new EckerRequest
        {
            PhonemeTokens = phonemes,
            PromptCodes = prompt,
            Language = language,
            MaxDuration = maxFrames ?? 12 * EncodecContract.FramesPerSecond,
            Sampling = sampling,
            // The NAR shares the filters and the seed (its own Philox streams), not the repetition penalty.
            NarSampling = nar == 0f ? null : sampling with { Temperature = nar, RepetitionPenalty = 1f },
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
                if (!sampling.IsGreedy) ctx.Info("nar-len: demasking is greedy (sampling options apply to the NAR levels only via --nar-temperature)");
                codes = model.GenerateNarLen(request, new EckerDemaskOptions { Length = length, Steps = maxSteps ?? 25 }, observer: null, ctx.Cancellation);
            }
        }
        catch (InvalidInputException e) when (e.Setting == nameof(EckerRequest.Language))
        {
            throw OptionErrors.WithFlag(e, " (--language-id)");
        }
        clock.Stop();
        Npy.WriteInt64(output, codes.Span, codes.Frames, codes.Codebooks);
        ctx.Info(string.Create(CultureInfo.InvariantCulture,
            $"generated {codes.Frames} frames ({codes.Frames / (double)EncodecContract.FramesPerSecond:F2} s, e-c-k-e-r/vall-e {mode}) in {clock.ElapsedMilliseconds} ms"));
        return ExitCodes.Success;
    }
}
