using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using VallE.Runtime.Audio;
using VallE.Runtime.Codec;
using VallE.Runtime.Cuda;
using VallE.Runtime.Models;
using VallE.Runtime.Models.Ecker;
using VallE.Runtime.Pipeline;
using VallE.Runtime.Sampling;
using VallE.Runtime.Text;
using VallE.Runtime.Text.Ecker;
using VallE.Runtime.Text.Vallex;
using VallE.Weights;
using VallE.Weights.IO;

namespace VallE.Cli.Commands;

/// <summary>
/// <c>valle synth</c>: text + a few seconds of prompt recording to speech. Loads the checkpoint, phonemizes
/// (espeak-ng), encodes the prompt with the EnCodec encoder (or takes <c>--prompt-codes</c>), runs AR + NAR,
/// decodes with the EnCodec decoder and writes OUT (24 kHz mono) atomically: nothing is written to OUT on failure.
/// With <c>--sentences</c> each sentence is synthesised on its own with the full prompt and written to
/// <c>OUT-stem.NNN.wav</c> as soon as it is done; OUT gets all of them joined, streamed to its temporary file as
/// they come (memory does not grow with the text). Every sentence is tokenized and checked before the first is
/// synthesised. <c>--out -</c> writes the WAV to standard output (no per-sentence files). A progress line goes to
/// stderr on a terminal; a summary line (audio seconds, wall seconds, real-time factor, time per stage) is printed
/// on stdout (on stderr when the audio goes to stdout).
/// <para>
/// VALL-E X checkpoints need no <c>--symbols</c>: their front end is <see cref="VallexTextFrontEnd"/>, with
/// <c>--language en|zh|ja|mix|auto</c> for the text. The prompt is a preset (<c>--voice-preset FILE.npz</c>), a WAV
/// or codes with <c>--prompt-text</c> (and <c>--prompt-language</c>, default auto), or nothing (upstream's
/// synthesis without a prompt). <c>--prompt-mode sliding</c> and <c>--best-of N</c> as upstream's long-text mode
/// and <c>best_of</c>.
/// </para>
/// <para>
/// e-c-k-e-r/vall-e checkpoints (<c>.sft</c>) speak through <see cref="EckerTextFrontEnd"/>: upstream's
/// <c>tokenizer.json</c> from <c>--tokenizer</c> or <c>$VALLE_ECKER_TOKENIZER</c>, <c>--language en|ja|de|fr|zh|ko</c>
/// (default en); the prompt is <c>--prompt-wav</c> or <c>--prompt-codes</c> alone (no transcript); <c>--mode</c>, the
/// NAR-len options and <c>--nar-temperature</c> as <c>generate</c>'s (<see cref="EckerCliOptions"/>).
/// </para>
/// </summary>
internal static class SynthCommand
{

    public static Command Create(CliContext ctx)
    {
        var checkpointOpt = new Option<string>("--checkpoint") { HelpName = "CKPT", Required = true, Description = "VALL-E checkpoint (.pt, converted folder or .safetensors), or an e-c-k-e-r/vall-e .sft." };
        var symbolsOpt = new Option<string?>("--symbols") { HelpName = "FILE", Description = "k2 symbol table the model was trained with (unique_text_tokens.k2symbols); required for lifeiteng VALL-E, not used by VALL-E X." };
        var decoderOpt = new Option<string>("--codec-decoder") { HelpName = "DEC.onnx", Required = true, Description = "Decoder ONNX model: EnCodec's or Vocos (--vocoder)." };
        var vocoder = new VocoderCliOption();
        var encoderOpt = new Option<string?>("--codec-encoder") { HelpName = "ENC.onnx", Description = "EnCodec encoder ONNX model (needed with --prompt-wav)." };
        var promptWavOpt = new Option<string?>("--prompt-wav") { HelpName = "P.wav", Description = "Prompt recording (any WAV; mixed to mono, resampled to 24 kHz)." };
        var promptCodesOpt = new Option<string?>("--prompt-codes") { HelpName = "CODES.npy", Description = "Prompt as EnCodec codes int64 [T, 8] instead of a WAV." };
        var presetOpt = new Option<string?>("--voice-preset") { HelpName = "FILE.npz", Description = "VALL-E X: a voice preset (audio_tokens, text_tokens, lang_code), instead of a prompt and its transcript." };
        var promptLanguageOpt = new Option<string?>("--prompt-language") { HelpName = "L", Description = "VALL-E X: language of the prompt transcript: en, zh, ja or auto (default)." };
        var promptModeOpt = new Option<string>("--prompt-mode") { HelpName = "MODE", Description = "VALL-E X with --sentences: fixed (every sentence with the prompt, default) or sliding (the previous sentence prompts the next).", DefaultValueFactory = _ => "fixed" };
        var bestOfOpt = new Option<int>("--best-of") { HelpName = "N", Description = $"Sample N AR candidates in one batch and keep the most likely (upstream VALL-E X's best_of; 1..{ValleModel.MaxBestOf}).", DefaultValueFactory = _ => 1 };
        var promptText = new TextInput("prompt-text", "prompt transcript", "Transcript of the prompt recording.");
        var text = new TextInput("text", "text", "Text to speak (long text: --text-file).");
        var outOpt = new Option<string>("--out", "-o") { HelpName = "OUT.wav", Required = true, Description = "Output WAV (24 kHz mono; '-' = standard output)." };
        var promptLimit = new PromptLimitCliOptions();
        var sentencesOpt = new Option<bool>("--sentences") { Description = "Synthesise sentence by sentence (same prompt), writing each as it finishes." };
        var device = new DeviceCliOptions(); // the codec always runs on the CPU
        var languageOpt = new Option<string?>("--language", "-l") { HelpName = "L", Description = $"Language of the text: an espeak-ng language (default {EspeakPhonemizer.DefaultLanguage}); VALL-E X: en, zh, ja, mix or auto (default); e-c-k-e-r/vall-e: en (default), ja, de, fr, zh, ko." };
        var formatOpt = DecodeCommand.SampleFormatOption();
        var sampling = new SamplingCliOptions(" per utterance");
        var engine = new EngineCliOptions();
        var codec = new CodecOptions();
        var checkpointOptions = new CheckpointOptions();
        var tokenizer = new TokenizerCliOption();
        var ecker = new EckerCliOptions();

        var command = new Command("synth", "Text + 3 s prompt recording to speech (WAV).");
        foreach (var o in new Option[] { checkpointOpt, symbolsOpt, decoderOpt, encoderOpt, promptWavOpt, promptCodesOpt, presetOpt, promptLanguageOpt })
            command.Options.Add(o);
        promptText.AddTo(command);
        text.AddTo(command);
        promptLimit.AddTo(command);
        foreach (var o in new Option[] { outOpt, sentencesOpt, promptModeOpt, bestOfOpt, languageOpt, formatOpt })
            command.Options.Add(o);
        sampling.AddTo(command);
        engine.AddTo(command);
        device.AddTo(command);
        vocoder.AddTo(command);
        codec.AddTo(command);
        checkpointOptions.AddTo(command);
        tokenizer.AddTo(command);
        ecker.AddTo(command);

        command.SetAction(parse => CliApp.Guard(ctx, () =>
        {
            var total = Stopwatch.StartNew();
            string output = parse.GetValue(outOpt)!;
            string? promptWav = parse.GetValue(promptWavOpt), promptCodesPath = parse.GetValue(promptCodesOpt);
            string? encoderPath = parse.GetValue(encoderOpt), presetPath = parse.GetValue(presetOpt), symbolsPath = parse.GetValue(symbolsOpt);
            string? language = parse.GetValue(languageOpt), promptLanguage = parse.GetValue(promptLanguageOpt);
            if (promptWav is not null && promptCodesPath is not null) throw new UsageException("give exactly one of --prompt-wav and --prompt-codes");
            if (presetPath is not null && (promptWav ?? promptCodesPath) is not null)
                throw new UsageException("--voice-preset is the whole prompt: give it or --prompt-wav/--prompt-codes, not both");
            // A symbol table means lifeiteng VALL-E, which always needs a prompt.
            if (presetPath is null && promptWav is null && promptCodesPath is null && symbolsPath is not null)
                throw new UsageException("give exactly one of --prompt-wav and --prompt-codes");
            if (promptWav is not null && encoderPath is null) throw new UsageException("--prompt-wav needs --codec-encoder ENC.onnx");
            PromptMode promptMode = parse.GetValue(promptModeOpt) switch
            {
                "fixed" => PromptMode.Fixed,
                "sliding" => PromptMode.Sliding,
                var m => throw new UsageException($"--prompt-mode '{m}': expected fixed or sliding"),
            };
            int bestOf = parse.GetValue(bestOfOpt);
            if (bestOf is < 1 or > ValleModel.MaxBestOf) throw new UsageException($"--best-of {bestOf} must be in 1..{ValleModel.MaxBestOf}");
            DeviceKind deviceKind = device.Read(parse);
            WavOutputFormat format = DecodeCommand.ParseSampleFormat(parse.GetValue(formatOpt));
            SamplingOptions samplingOptions = sampling.Read(parse);
            int? maxFrames = sampling.MaxFrames(parse);
            var overrides = checkpointOptions.Read(parse);
            var engineOptions = engine.Read(parse);
            var codecOptions = codec.Read(parse, ctx);
            Vocoder? requestedVocoder = vocoder.Read(parse);
            double maxPromptSeconds = promptLimit.Read(parse);
            bool splitSentences = parse.GetValue(sentencesOpt);
            if (text.FilePath(parse) == "-" && promptText.FilePath(parse) == "-")
                throw new UsageException("--text-file and --prompt-text-file cannot both read standard input");
            string? promptTranscript = promptText.ReadOptional(parse);
            string textToSay = text.Read(parse);
            string checkpointPath = parse.GetValue(checkpointOpt)!, decoderPath = parse.GetValue(decoderOpt)!;
            bool toStdout = output == AtomicFile.StandardOutput;
            string?[] inputs = [checkpointPath, symbolsPath, decoderPath, encoderPath, promptWav, promptCodesPath, presetPath,
                text.FilePath(parse), promptText.FilePath(parse)];
            AtomicFile.Check(output, inputs);
            if (splitSentences && !toStdout) AtomicFile.Check(SentencePath(output, 0), inputs);

            // The checkpoint's configuration first (cheap: the weights load last) to know its front end.
            using var checkpoint = CheckpointOptions.Open(ctx, checkpointPath, overrides);
            bool vallex = checkpoint.Config.Family == ModelFamily.VallEX;
            EckerConfig? eckerConfig = checkpoint.Config.Ecker;
            Synthesizer.CheckCanSpeak(checkpoint.Config);
            EckerSettings? eckerSettings = null;
            string? tokenizerPath = null;
            if (eckerConfig is not null)
            {
                // e-c-k-e-r/vall-e: its own front end (espeak-ng + upstream's tokenizer.json), a prompt of audio alone.
                if (symbolsPath is not null) ctx.Warn("--symbols is not used: e-c-k-e-r/vall-e has its own text front end (tokenizer.json)");
                if (presetPath is not null) throw new UsageException("--voice-preset is for VALL-E X checkpoints; this one is e-c-k-e-r/vall-e (give --prompt-wav or --prompt-codes)");
                if (promptWav is null && promptCodesPath is null) throw new UsageException("give exactly one of --prompt-wav and --prompt-codes");
                if (promptTranscript is not null) ctx.Warn("--prompt-text is not used: an e-c-k-e-r/vall-e prompt is the recording alone");
                if (promptLanguage is not null) throw new UsageException("--prompt-language is for VALL-E X checkpoints");
                if (promptMode != PromptMode.Fixed) throw new UsageException("--prompt-mode sliding is for VALL-E X checkpoints");
                if (bestOf != 1) throw new UsageException("--best-of is VALL-E X's (upstream's best_of); e-c-k-e-r/vall-e generates one candidate");
                language ??= "en";
                if (EckerTextFrontEnd.LanguageId(language) < 0)
                    throw new UsageException($"--language '{language}': e-c-k-e-r/vall-e speaks {string.Join(", ", EckerTextFrontEnd.Languages)}");
                tokenizerPath = tokenizer.Require(parse, "an e-c-k-e-r/vall-e checkpoint");
                eckerSettings = ecker.Read(parse, eckerConfig, samplingOptions);
            }
            else
            {
                ecker.RejectFor(parse);
                if (tokenizer.Given(parse) is not null) throw new UsageException("--tokenizer is for e-c-k-e-r/vall-e checkpoints");
            }
            if (!vallex && eckerConfig is null)
            {
                if (symbolsPath is null) throw new UsageException("--symbols is required for lifeiteng VALL-E checkpoints (unique_text_tokens.k2symbols)");
                if (presetPath is null && promptWav is null && promptCodesPath is null) throw new UsageException("give exactly one of --prompt-wav and --prompt-codes");
                if (presetPath is not null) throw new UsageException("--voice-preset is for VALL-E X checkpoints; this one is lifeiteng VALL-E (give --prompt-wav or --prompt-codes)");
                if (promptTranscript is null) throw new UsageException("give exactly one of --prompt-text and --prompt-text-file");
                if (promptLanguage is not null) throw new UsageException("--prompt-language is for VALL-E X checkpoints");
                if (promptMode != PromptMode.Fixed) throw new UsageException("--prompt-mode sliding is for VALL-E X checkpoints");
            }
            else if (vallex)
            {
                if (symbolsPath is not null) ctx.Warn("--symbols is not used: VALL-E X has its own text front end (bpe_69)");
                if (presetPath is not null && promptTranscript is not null)
                    throw new UsageException("--voice-preset holds its transcript's tokens: drop --prompt-text");
                if ((promptWav ?? promptCodesPath) is not null && promptTranscript is null)
                    throw new UsageException("a VALL-E X prompt needs its transcript: give --prompt-text (or --prompt-text-file), or use --voice-preset");
                if (promptTranscript is not null && (promptWav ?? promptCodesPath) is null)
                    throw new UsageException("--prompt-text needs the prompt: --prompt-wav or --prompt-codes");
                language ??= "auto";
                if (!VallexTextFrontEnd.Languages.Contains(language))
                    throw new UsageException($"--language '{language}': VALL-E X speaks en, zh, ja, mix or auto");
                if (promptLanguage is not null && promptLanguage is not ("en" or "zh" or "ja" or "auto"))
                    throw new UsageException($"--prompt-language '{promptLanguage}': expected en, zh, ja or auto");
            }
            bool vallexCap = vallex && promptWav is not null && maxPromptSeconds > VallexPrompt.MaxRecordingSeconds;
            if (vallexCap) maxPromptSeconds = VallexPrompt.MaxRecordingSeconds;   // upstream's make_prompt limit

            // Cheap checks first (symbols, prompt, codec), the model last: its errors cost the most time.
            var symbols = vallex || eckerConfig is not null ? null : SymbolTable.Load(symbolsPath!);
            if (symbols is not null) Synthesizer.CheckCanSpeak(checkpoint.Config, symbols);
            var frontEnd = symbols is null ? null : new TextFrontEnd(new EspeakPhonemizer(language ?? EspeakPhonemizer.DefaultLanguage), symbols);
            var eckerFrontEnd = tokenizerPath is null ? null : EckerTextFrontEnd.Load(tokenizerPath);
            if (eckerFrontEnd is not null) Synthesizer.CheckCanSpeak(checkpoint.Config, eckerFrontEnd.Tokenizer);
            var clock = Stopwatch.StartNew();
            AudioCodes promptCodes = new([], 0);
            VallexPrompt? preset = null;
            if (promptWav is not null)
            {
                using var encoder = EncodecEncoder.Open(encoderPath!, codecOptions);
                try
                {
                    promptCodes = vallexCap
                        ? Synthesizer.EncodePrompt(encoder, promptWav, maxPromptSeconds, ctx.Cancellation)
                        : PromptLimitCliOptions.Enforce(() => Synthesizer.EncodePrompt(encoder, promptWav, maxPromptSeconds, ctx.Cancellation));
                }
                catch (InvalidInputException e) when (vallexCap && e.Setting == "maxSeconds")
                {
                    throw new InvalidInputException($"{e.Message}: VALL-E X takes prompt recordings of at most " +
                        $"{VallexPrompt.MaxRecordingSeconds} s, as upstream's make_prompt; cut the recording", e);
                }
            }
            else if (promptCodesPath is not null)
            {
                promptCodes = DecodeCommand.ReadCodes(promptCodesPath);
                PromptLimitCliOptions.CheckFrames(promptCodesPath, promptCodes.Frames, maxPromptSeconds);
            }
            else if (presetPath is not null)
            {
                preset = VallexPrompt.LoadPreset(presetPath);
                PromptLimitCliOptions.CheckFrames(presetPath, preset.Codes.Frames, maxPromptSeconds);
                promptCodes = preset.Codes;
            }
            double promptMs = clock.Elapsed.TotalMilliseconds;
            // On the CPU first: a bad codec file fails before the model loads.
            using var decoder = new Owned<EncodecDecoder>(VocoderCliOption.Check(EncodecDecoder.Open(decoderPath, codecOptions), requestedVocoder));

            clock.Restart();
            CudaDevice? gpu;
            ICodeGenerator generator;
            generator = DeviceCliOptions.CreateGenerator(ctx, deviceKind, checkpoint, engineOptions, out gpu);
            checkpoint.Dispose();   // the model holds what it needs
            using var ownedGpu = gpu;
            using var ownedGenerator = generator;
            if (generator.Device == "cuda")
            {
                // The codec follows the model onto the GPU where this ONNX Runtime build has the CUDA provider.
                decoder.Replace(() => VocoderCliOption.Check(EncodecDecoder.Open(decoderPath, codecOptions with { PreferCuda = true }), requestedVocoder));
            }
            double loadMs = clock.Elapsed.TotalMilliseconds;
            var synthesizer = eckerFrontEnd is not null ? new Synthesizer(generator, eckerFrontEnd, decoder.Value)
                : frontEnd is null ? new Synthesizer(generator, decoder.Value) : new Synthesizer(generator, frontEnd, decoder.Value);

            var request = new SynthesisRequest
            {
                PromptText = eckerConfig is null ? promptTranscript ?? "" : "",
                Text = textToSay,
                PromptCodes = promptCodes,
                Sampling = samplingOptions,
                MaxFrames = maxFrames,
                SplitSentences = splitSentences,
                Language = vallex || eckerConfig is not null ? language : null,
                Ecker = eckerSettings,
                VallexPrompt = preset,
                PromptLanguage = promptLanguage,
                PromptMode = promptMode,
                BestOf = bestOf,
            };
            var progress = ctx.Interactive ? new ProgressLine(ctx.Err) : null;
            var t = StageTimes.Zero;
            int steps = 0, pieceCount = 0;
            long samples = 0, clipped = 0;
            double? firstAudioSeconds = null;
            var synthClock = Stopwatch.StartNew();
            // The joined output is streamed into its temporary file piece by piece; it replaces OUT only at the end.
            try
            {
                AtomicFile.Write(output, stream =>
                {
                    var joined = new WavStreamWriter(stream, EncodecContract.SampleRate, format);
                    foreach (var piece in synthesizer.Run(request, progress, ctx.Cancellation))
                    {
                        progress?.Clear();
                        SentenceJoin.Append(joined, piece.Samples, first: piece.Index == 0);
                        if (piece.Count > 1 && !toStdout)
                        {
                            string path = SentencePath(output, piece.Index);
                            WavWriter.Write(path, piece.Samples, EncodecContract.SampleRate, format);
                            ctx.Info(string.Format(CultureInfo.InvariantCulture, "sentence {0}/{1}: {2:F2} s -> {3}",
                                piece.Index + 1, piece.Count, piece.Samples.Length / (double)EncodecContract.SampleRate, path));
                        }
                        string where = piece.Count > 1 ? $"sentence {piece.Index + 1}: " : "";
                        if (piece.StopReason == "length")
                            ctx.Warn($"{where}the model did not emit end-of-speech (stopped at its length limit" +
                                (eckerConfig is null ? " of 16 frames per text token)" : ": 12 s; --max-duration sets another)"));
                        else if (piece.StopReason == "max-frames")
                            ctx.Info($"{where}stopped at --max-duration before end-of-speech");
                        firstAudioSeconds ??= total.Elapsed.TotalSeconds;
                        progress?.NextPiece(piece.Index + 1, piece.Count);
                        t += piece.Times;
                        steps += piece.ArSteps;
                        pieceCount = piece.Count;
                    }
                    joined.Finish();
                    samples = joined.Samples;
                    clipped = joined.Clipped;
                });
            }
            catch (InvalidInputException e) when (e.Setting == nameof(SynthesisRequest.SplitSentences))
            {
                throw OptionErrors.WithFlag(e, " (--sentences)");
            }
            catch (InvalidInputException e) when (e.Setting == nameof(SynthesisRequest.Language))
            {
                throw OptionErrors.WithFlag(e, " (--language)");
            }
            double synthSeconds = synthClock.Elapsed.TotalSeconds + promptMs / 1000;
            DecodeCommand.ReportClipping(ctx, clipped, samples);

            double audioSeconds = samples / (double)EncodecContract.SampleRate;
            string first = pieceCount > 1 ? string.Format(CultureInfo.InvariantCulture, "; first audio {0:F2} s after start", firstAudioSeconds) : "";
            (toStdout ? ctx.Err : ctx.Out).WriteLine(string.Format(CultureInfo.InvariantCulture,
                "synth: {0:F2} s of audio in {1:F2} s (real-time factor {2:F3}){3}; text {4:F2} s, prompt {5:F2} s, " +
                "AR {6:F2} s ({7} steps, {8:F1} ms/step), NAR {9:F2} s" +
                ", codec ({14}) {10:F2} s; model load {11:F2} s ({13}) -> {12}",
                audioSeconds, synthSeconds, audioSeconds > 0 ? synthSeconds / audioSeconds : 0, first,
                t.TextMs / 1000, promptMs / 1000, t.ArMs / 1000, steps, steps > 0 ? t.ArMs / steps : 0, t.NarMs / 1000,
                t.CodecMs / 1000, loadMs / 1000, output, generator.Device, decoder.Value.Vocoder.Name()));
            return ExitCodes.Success;
        }));
        return command;
    }

    internal static string SentencePath(string output, int index)
    {
        string dir = Path.GetDirectoryName(output) ?? "";
        return Path.Combine(dir, $"{Path.GetFileNameWithoutExtension(output)}.{index + 1:D3}.wav");
    }


    /// <summary>A one-line progress display on stderr (terminals only), redrawn at most 10 times a second.</summary>
    private sealed class ProgressLine(TextWriter err) : IInferenceObserver
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _lastDraw = -1000;
        private int _piece = 1, _pieces = 1;

        public void NextPiece(int done, int count) { _piece = done + 1; _pieces = count; }

        public void OnArLogits(int sequence, int step, ReadOnlySpan<float> logits) =>
            Draw($"AR frame {step}");

        public void OnNarLogits(int sequence, int stage, int frames, ReadOnlySpan<float> logits) =>
            Draw($"NAR codebook {stage}/7 ({frames} frames)");

        private void Draw(string what)
        {
            long now = _clock.ElapsedMilliseconds;
            if (now - _lastDraw < 100) return;
            _lastDraw = now;
            string piece = _pieces > 1 ? $"sentence {Math.Min(_piece, _pieces)}/{_pieces}: " : "";
            err.Write($"\r\u001b[K{piece}{what}  [{now / 1000.0:F1} s]");
        }

        public void Clear() => err.Write("\r\u001b[K");
    }
}
