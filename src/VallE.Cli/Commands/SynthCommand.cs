using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using VallE.Runtime.Audio;
using VallE.Runtime.Codec;
using VallE.Runtime.Cuda;
using VallE.Runtime.Cuda.Model;
using VallE.Runtime.Models;
using VallE.Runtime.Pipeline;
using VallE.Runtime.Sampling;
using VallE.Runtime.Text;
using VallE.Weights;

namespace VallE.Cli.Commands;

/// <summary>
/// <c>valle synth</c>: text + a few seconds of prompt recording to speech. Loads the checkpoint, phonemizes
/// (espeak-ng), encodes the prompt with the EnCodec encoder (or takes <c>--prompt-codes</c>), runs AR + NAR,
/// decodes with the EnCodec decoder and writes OUT (24 kHz mono) atomically: nothing is written to OUT on failure.
/// With <c>--sentences</c> each sentence is synthesised on its own with the full prompt and written to
/// <c>OUT-stem.NNN.wav</c> as soon as it is done; OUT gets all of them joined at the end. A progress line
/// goes to stderr on a terminal; a summary line (audio seconds, wall seconds, real-time factor, time per stage)
/// is always printed on stdout.
/// </summary>
internal static class SynthCommand
{
    /// <summary>Silence between sentences in the joined output.</summary>
    private const double SentenceGapSeconds = 0.2;

    public static Command Create(CliContext ctx)
    {
        var checkpointOpt = new Option<string>("--checkpoint") { HelpName = "CKPT", Required = true, Description = "VALL-E checkpoint (.pt, converted folder or .safetensors)." };
        var symbolsOpt = new Option<string>("--symbols") { HelpName = "FILE", Required = true, Description = "k2 symbol table the model was trained with (unique_text_tokens.k2symbols)." };
        var decoderOpt = new Option<string>("--codec-decoder") { HelpName = "DEC.onnx", Required = true, Description = "EnCodec decoder ONNX model." };
        var encoderOpt = new Option<string?>("--codec-encoder") { HelpName = "ENC.onnx", Description = "EnCodec encoder ONNX model (needed with --prompt-wav)." };
        var promptWavOpt = new Option<string?>("--prompt-wav") { HelpName = "P.wav", Description = "Prompt recording (any WAV; mixed to mono, resampled to 24 kHz)." };
        var promptCodesOpt = new Option<string?>("--prompt-codes") { HelpName = "CODES.npy", Description = "Prompt as EnCodec codes int64 [T, 8] instead of a WAV." };
        var promptTextOpt = new Option<string>("--prompt-text") { HelpName = "TEXT", Required = true, Description = "Transcript of the prompt recording." };
        var textOpt = new Option<string>("--text") { HelpName = "TEXT", Required = true, Description = "Text to speak." };
        var outOpt = new Option<string>("--out", "-o") { HelpName = "OUT.wav", Required = true, Description = "Output WAV (24 kHz mono)." };
        var sentencesOpt = new Option<bool>("--sentences") { Description = "Synthesise sentence by sentence (same prompt), writing each as it finishes." };
        var device = new DeviceCliOptions(); // the codec always runs on the CPU
        var languageOpt = new Option<string>("--language", "-l") { HelpName = "L", Description = "espeak-ng language.", DefaultValueFactory = _ => EspeakPhonemizer.DefaultLanguage };
        var formatOpt = DecodeCommand.SampleFormatOption();
        var sampling = new SamplingCliOptions(" per utterance");
        var engine = new EngineCliOptions();
        var codec = new CodecOptions();
        var checkpointOptions = new CheckpointOptions();

        var command = new Command("synth", "Text + 3 s prompt recording to speech (WAV).");
        foreach (var o in new Option[] { checkpointOpt, symbolsOpt, decoderOpt, encoderOpt, promptWavOpt, promptCodesOpt, promptTextOpt,
                     textOpt, outOpt, sentencesOpt, languageOpt, formatOpt })
            command.Options.Add(o);
        sampling.AddTo(command);
        engine.AddTo(command);
        device.AddTo(command);
        codec.AddTo(command);
        checkpointOptions.AddTo(command);

        command.SetAction(parse => CliApp.Guard(ctx, () =>
        {
            var total = Stopwatch.StartNew();
            string output = parse.GetValue(outOpt)!;
            string? promptWav = parse.GetValue(promptWavOpt), promptCodesPath = parse.GetValue(promptCodesOpt);
            string? encoderPath = parse.GetValue(encoderOpt);
            if ((promptWav is null) == (promptCodesPath is null)) throw new UsageException("give exactly one of --prompt-wav and --prompt-codes");
            if (promptWav is not null && encoderPath is null) throw new UsageException("--prompt-wav needs --codec-encoder ENC.onnx");
            DeviceKind deviceKind = device.Read(parse);
            WavOutputFormat format = DecodeCommand.ParseSampleFormat(parse.GetValue(formatOpt));
            SamplingOptions samplingOptions = sampling.Read(parse);
            int? maxFrames = sampling.MaxFrames(parse);
            var overrides = checkpointOptions.Read(parse);
            var engineOptions = engine.Read(parse);
            var codecOptions = codec.Read(parse, ctx);
            string outDir = Path.GetDirectoryName(Path.GetFullPath(output))!;
            if (!Directory.Exists(outDir)) throw new InvalidInputException($"output directory does not exist: {outDir}");

            // Cheap checks first (symbols, prompt, codec), the model last: its errors cost the most time.
            var text = new TextFrontEnd(new EspeakPhonemizer(parse.GetValue(languageOpt) ?? EspeakPhonemizer.DefaultLanguage),
                SymbolTable.Load(parse.GetValue(symbolsOpt)!));
            var clock = Stopwatch.StartNew();
            long[,] promptCodes;
            if (promptWav is not null)
            {
                using var encoder = EncodecEncoder.Open(encoderPath!, codecOptions);
                promptCodes = Synthesizer.EncodePrompt(encoder, promptWav);
            }
            else
            {
                var (flat, frames) = DecodeCommand.ReadCodes(promptCodesPath!);
                promptCodes = Synthesizer.ToMatrix(flat, frames);
            }
            double promptMs = clock.Elapsed.TotalMilliseconds;
            using var decoder = EncodecDecoder.Open(parse.GetValue(decoderOpt)!, codecOptions);

            clock.Restart();
            CudaDevice? gpu;
            ICodeGenerator generator;
            using (var checkpoint = CheckpointOptions.Open(ctx, parse.GetValue(checkpointOpt)!, overrides))
                generator = DeviceCliOptions.CreateGenerator(ctx, deviceKind, checkpoint, engineOptions, out gpu);
            using var ownedGpu = gpu;
            using var ownedGenerator = generator;
            double loadMs = clock.Elapsed.TotalMilliseconds;
            var synthesizer = new Synthesizer(generator, text, decoder);

            var request = new SynthesisRequest
            {
                PromptText = parse.GetValue(promptTextOpt)!,
                Text = parse.GetValue(textOpt)!,
                PromptCodes = promptCodes,
                Sampling = samplingOptions,
                MaxFrames = maxFrames,
                SplitSentences = parse.GetValue(sentencesOpt),
            };
            var progress = ctx.Interactive ? new ProgressLine(ctx.Err) : null;
            var pieces = new List<SynthesizedPiece>();
            double? firstAudioSeconds = null;
            long clipped = 0;
            var synthClock = Stopwatch.StartNew();
            foreach (var piece in synthesizer.Run(request, progress, ctx.Cancellation))
            {
                progress?.Clear();
                pieces.Add(piece);
                if (piece.Count > 1)
                {
                    string path = SentencePath(output, piece.Index);
                    clipped += WavWriter.Write(path, piece.Samples, EncodecContract.SampleRate, format);
                    ctx.Info(string.Format(CultureInfo.InvariantCulture, "sentence {0}/{1}: {2:F2} s -> {3}",
                        piece.Index + 1, piece.Count, piece.Samples.Length / (double)EncodecContract.SampleRate, path));
                }
                string where = piece.Count > 1 ? $"sentence {piece.Index + 1}: " : "";
                if (piece.StopReason == "length")
                    ctx.Warn($"{where}the model did not emit end-of-speech (stopped at its limit of 16 frames per text token)");
                else if (piece.StopReason == "max-frames")
                    ctx.Info($"{where}stopped at --max-duration before end-of-speech");
                firstAudioSeconds ??= total.Elapsed.TotalSeconds;
                progress?.NextPiece(piece.Index + 1, piece.Count);
            }
            double synthSeconds = synthClock.Elapsed.TotalSeconds + promptMs / 1000;

            float[] audio = Join(pieces);
            long clippedAll = WavWriter.Write(output, audio, EncodecContract.SampleRate, format);
            DecodeCommand.ReportClipping(ctx, pieces.Count > 1 ? clipped : clippedAll, audio.Length);

            var t = pieces.Aggregate(StageTimes.Zero, (acc, p) => acc + p.Times);
            int steps = pieces.Sum(p => p.ArSteps);
            double audioSeconds = audio.Length / (double)EncodecContract.SampleRate;
            string first = pieces.Count > 1 ? string.Format(CultureInfo.InvariantCulture, "; first audio {0:F2} s after start", firstAudioSeconds) : "";
            ctx.Out.WriteLine(string.Format(CultureInfo.InvariantCulture,
                "synth: {0:F2} s of audio in {1:F2} s (real-time factor {2:F3}){3}; text {4:F2} s, prompt {5:F2} s, " +
                (generator.SplitsArAndNar ? "AR {6:F2} s ({7} steps, {8:F1} ms/step), NAR {9:F2} s" : "AR+NAR {6:F2} s ({7} steps)") +
                ", codec {10:F2} s; model load {11:F2} s ({13}) -> {12}",
                audioSeconds, synthSeconds, audioSeconds > 0 ? synthSeconds / audioSeconds : 0, first,
                t.TextMs / 1000, promptMs / 1000, t.ArMs / 1000, steps, steps > 0 ? t.ArMs / steps : 0, t.NarMs / 1000,
                t.CodecMs / 1000, loadMs / 1000, output, generator.Device));
            return ExitCodes.Success;
        }));
        return command;
    }

    internal static string SentencePath(string output, int index)
    {
        string dir = Path.GetDirectoryName(output) ?? "";
        return Path.Combine(dir, $"{Path.GetFileNameWithoutExtension(output)}.{index + 1:D3}.wav");
    }

    private static float[] Join(List<SynthesizedPiece> pieces)
    {
        if (pieces.Count == 1) return pieces[0].Samples;
        int gap = (int)(SentenceGapSeconds * EncodecContract.SampleRate);
        var all = new List<float>();
        for (int i = 0; i < pieces.Count; i++)
        {
            if (i > 0) all.AddRange(new float[gap]);
            all.AddRange(pieces[i].Samples);
        }
        return [.. all];
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
