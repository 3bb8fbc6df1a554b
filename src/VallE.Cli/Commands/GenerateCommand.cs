using System.CommandLine;
using System.Globalization;
using VallE.Runtime.Codec;
using VallE.Runtime.Cuda;
using VallE.Runtime.Models;
using VallE.Weights;
using VallE.Weights.IO;
using VallE.Weights.NumPy;

namespace VallE.Cli.Commands;

/// <summary>
/// <c>valle generate --checkpoint CKPT --text-tokens TOKENS.npy --prompt-codes CODES.npy --codes-out OUT.npy [...]</c>:
/// upstream's <c>inference</c> (or, with --continual, lifeiteng's <c>continual</c>) on the CPU, or with --device cuda|auto on
/// a GPU (continual: CPU only). TOKENS.npy: int64 [S]
/// (&lt;bos&gt;, prompt transcript, text, &lt;eos&gt;); CODES.npy: int64 [T', 8]; OUT.npy: int64 [T, 8], the generated
/// frames only. Prints one summary line on stderr (frames, AR ms/token, NAR ms). Exit 3 for out-of-range token ids,
/// wrong code shapes or code values outside 0..1023. An e-c-k-e-r/vall-e <c>.sft</c> checkpoint goes to
/// <see cref="EckerCliOptions"/> (phoneme ids, <c>--text-language</c> as a name or id, <c>--mode ar+nar|nar-len</c>; --device as for VALL-E).
/// <c>--max-frames N</c> (or <c>--max-duration</c>) caps the generated frames for every family.
/// </summary>
internal static class GenerateCommand
{
    public static Command Create(CliContext ctx)
    {
        var checkpointOpt = new Option<string>("--checkpoint") { HelpName = "CKPT", Required = true, Description = "A .pt checkpoint, a converted folder, or an e-c-k-e-r/vall-e .sft file." };
        var textOpt = new Option<string>("--text-tokens") { HelpName = "TOKENS.npy", Required = true, Description = "int64 [S] text token ids: <bos>, prompt transcript, text, <eos>." };
        var promptOpt = new Option<string>("--prompt-codes") { HelpName = "CODES.npy", Required = true, Description = "int64 [T', 8] EnCodec codes of the acoustic prompt (with --continual: the codes to continue)." };
        var outOpt = new Option<string>("--codes-out") { HelpName = "OUT.npy", Required = true, Description = "Where to write the generated int64 [T, 8] codes ('-' = standard output)." };
        var enrollOpt = new Option<int?>("--enroll-tokens") { HelpName = "N", Description = "Leading text tokens that belong to the prompt (upstream's enroll_x_lens); needed by VALL-E X and prefix modes 2/4." };
        var promptLangOpt = new Option<string?>("--prompt-language") { HelpName = "L", Description = "VALL-E X: language of the prompt (en, zh, ja)." };
        var textLangOpt = new Option<string?>("--text-language") { HelpName = "L", Description = "VALL-E X: language of the text (en, zh, ja), or one per text token after the enrolled ones, comma-separated (mixed-language text). e-c-k-e-r/vall-e: a language name or upstream's id (en 0, ja 1, de 2, fr 3, zh 4, ko 5; default en)." };
        var maxFramesOpt = new Option<int?>("--max-frames") { HelpName = "N", Description = "Generate at most N frames (75 per second), any family; or --max-duration in seconds." };
        var continualOpt = new Option<bool>("--continual") { Description = "lifeiteng's continual(): no AR; the NAR completes the second half of --prompt-codes." };
        var ecker = new EckerCliOptions();
        var promptLimit = new PromptLimitCliOptions();
        var sampling = new SamplingCliOptions();
        var engine = new EngineCliOptions();
        var checkpointOptions = new CheckpointOptions();
        var device = new DeviceCliOptions();

        var command = new Command("generate", "Generate the 8-codebook code matrix from text tokens and prompt codes.");
        foreach (var o in new Option[] { checkpointOpt, textOpt, promptOpt, outOpt, enrollOpt, promptLangOpt, textLangOpt, maxFramesOpt, continualOpt })
            command.Options.Add(o);
        sampling.AddTo(command);
        engine.AddTo(command);
        checkpointOptions.AddTo(command);
        device.AddTo(command);
        promptLimit.AddTo(command);
        ecker.AddTo(command);

        command.SetAction(parse => CliApp.Guard(ctx, () =>
        {
            var overrides = checkpointOptions.Read(parse);
            var samplingOptions = sampling.Read(parse);
            var engineOptions = engine.Read(parse);
            DeviceKind deviceKind = device.Read(parse);
            int? maxFrames = sampling.MaxFrames(parse);
            if (parse.GetValue(maxFramesOpt) is { } frames)
            {
                if (maxFrames is not null) throw new UsageException("--max-frames and --max-duration both set a frame budget; give one");
                if (frames < 1) throw new UsageException($"--max-frames {frames} must be >= 1");
                maxFrames = frames;
            }
            int? enroll = parse.GetValue(enrollOpt);
            string? textLanguage = parse.GetValue(textLangOpt);
            if (enroll is < 0) throw new UsageException($"--enroll-tokens {enroll} must be >= 0");
            double maxPromptSeconds = promptLimit.Read(parse);
            bool continual = parse.GetValue(continualOpt);
            if (continual && deviceKind == DeviceKind.Cuda)
                throw new UsageException("--continual runs on the CPU only; drop --device cuda");

            string textPath = parse.GetValue(textOpt)!, promptPath = parse.GetValue(promptOpt)!, checkpointPath = parse.GetValue(checkpointOpt)!;
            string output = parse.GetValue(outOpt)!;
            AtomicFile.Check(output, checkpointPath, textPath, promptPath);
            long[] text = ReadTokens(textPath);
            AudioCodes prompt = ReadCodes(promptPath);
            // continual's "prompt" is a whole utterance to complete, not a voice prompt.
            if (!continual) PromptLimitCliOptions.CheckFrames(promptPath, prompt.Frames, maxPromptSeconds);

            using var checkpoint = CheckpointOptions.Open(ctx, checkpointPath, overrides);

            if (checkpoint.Config.Ecker is { } eckerConfig)
            {
                if (continual) throw new UsageException("--continual is lifeiteng VALL-E's continual(); this is an e-c-k-e-r/vall-e checkpoint");
                if (enroll is not null || parse.GetValue(promptLangOpt) is not null)
                    throw new UsageException("--enroll-tokens and --prompt-language are VALL-E X options; an e-c-k-e-r/vall-e checkpoint takes --text-language only");
                if (sampling.RepetitionWindowGiven(parse))
                    throw new UsageException("--repetition-window is a VALL-E option: e-c-k-e-r/vall-e's repetition penalty covers every earlier token (see --repetition-penalty-decay)");
                return ecker.Generate(ctx, parse, deviceKind, checkpoint, eckerConfig, text, prompt, textLanguage, samplingOptions, maxFrames, engineOptions, output);
            }
            ecker.RejectFor(parse);

            GenerationResult result;
            if (continual)
            {
                if (checkpoint.Config.Family != ModelFamily.Valle)
                    throw new UsageException("--continual is lifeiteng VALL-E's continual(); this checkpoint is not one");
                var model = CpuModelLoader.Load(checkpoint, engineOptions);
                ctx.Cancellation.ThrowIfCancellationRequested();
                result = model.Continual(text, prompt, observer: null, ctx.Cancellation);
            }
            else
            {
                using var generator = DeviceCliOptions.CreateGenerator(ctx, deviceKind, checkpoint, engineOptions, out var gpu);
                using var ownedGpu = gpu;
                ctx.Cancellation.ThrowIfCancellationRequested();
                try
                {
                    result = generator.Generate(new GenerationRequest
                    {
                        TextTokens = text,
                        PromptCodes = prompt,
                        EnrollTokens = enroll,
                        PromptLanguage = parse.GetValue(promptLangOpt),
                        TextLanguage = textLanguage is { } one && !one.Contains(',') ? one : null,
                        TextLanguages = textLanguage is { } list && list.Contains(',') ? list.Split(',') : null,
                        Sampling = samplingOptions,
                        MaxFrames = maxFrames,
                    }, observer: null, ctx.Cancellation);
                }
                catch (InvalidInputException e) when (e.Setting == nameof(GenerationRequest.EnrollTokens))
                {
                    throw OptionErrors.WithFlag(e, " (--enroll-tokens)");
                }
            }

            AudioCodes codes = result.Codes;
            Npy.WriteInt64(output, codes.Span, codes.Frames, codes.Codebooks);
            ctx.Info(string.Create(CultureInfo.InvariantCulture,
                $"generated {result.Frames} frames ({result.Frames / (double)EncodecContract.FramesPerSecond:F2} s, stop: {result.StopReason}); " +
                $"AR {result.ArMillisecondsPerToken:F2} ms/token ({result.ArSteps} steps, {result.ArMilliseconds:F0} ms); NAR {result.NarMilliseconds:F0} ms"));
            return ExitCodes.Success;
        }));
        return command;
    }

    private static long[] ReadTokens(string path)
    {
        var a = Npy.Read(path);
        // VALL-E X presets store [1, S]: accept a leading batch of one.
        if (!(a.Rank == 1 || a.Rank == 2 && a.Shape[0] == 1) || !IsInteger(a.Type))
            throw new InvalidInputException($"{path}: text tokens must be a 1-D integer array [S], got {a}");
        return a.ToInt64();
    }

    /// <summary>Codes of any codebook count (the model checks it, with its message); at least one codebook.</summary>
    private static AudioCodes ReadCodes(string path)
    {
        var a = Npy.Read(path);
        // VALL-E X presets store [1, T, 8]: accept a leading batch of one.
        long[] shape = a.Rank == 3 && a.Shape[0] == 1 ? a.Shape[1..] : a.Shape;
        if (shape.Length != 2 || shape[1] < 1 || !IsInteger(a.Type))
            throw new InvalidInputException($"{path}: codes must be a 2-D integer array [frames, 8], got {a}");
        return new AudioCodes(a.ToInt64(), (int)shape[0], (int)shape[1]);
    }

    private static bool IsInteger(NpyType t) => t is NpyType.Int64 or NpyType.Int32 or NpyType.Int16 or NpyType.Int8 or NpyType.UInt8;
}
