using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using VallE.Runtime.Text;
using VallE.Server;

namespace VallE.Cli.Commands;

/// <summary>
/// <c>valle serve</c>: an HTTP text-to-speech server (OpenAI's <c>POST /v1/audio/speech</c>, plus voices, health,
/// readiness and Prometheus metrics) holding one loaded <see cref="ValleSpeechClient"/>. This command only parses
/// options and runs <see cref="ValleServer"/> (src/VallE.Server); see docs/serving.md. It listens first, loads the
/// model, and serves until Ctrl-C or SIGTERM, then stops accepting, lets requests in flight finish within
/// <c>--shutdown-timeout</c> and exits 0. A model that fails to load ends it with the usual one line and exit code.
/// VALL-E X checkpoints need no <c>--symbols</c> and take preset voices (<c>--voice NAME=PRESET.npz</c>,
/// <c>NAME.npz</c> in <c>--voices-dir</c>) and transcript languages (<c>--voice-language NAME=L</c>); the library
/// judges which options fit the checkpoint. e-c-k-e-r/vall-e checkpoints (<c>.sft</c>) take <c>--tokenizer</c> (or
/// <c>$VALLE_ECKER_TOKENIZER</c>) and voices of a recording alone (<c>--voice NAME=FILE</c>).
/// </summary>
internal static class ServeCommand
{
    private static readonly Dictionary<string, string> Flags = new()
    {
        [nameof(ValleServerOptions.Host)] = "--host",
        [nameof(ValleServerOptions.Port)] = "--port",
        [nameof(ValleServerOptions.MaxConcurrency)] = "--max-concurrency",
        [nameof(ValleServerOptions.MaxQueue)] = "--max-queue",
        [nameof(ValleServerOptions.MaxInputChars)] = "--max-input-chars",
        [nameof(ValleServerOptions.MaxBodyBytes)] = "--max-body-bytes",
        [nameof(ValleServerOptions.RequestTimeout)] = "--request-timeout",
        [nameof(ValleServerOptions.ShutdownTimeout)] = "--shutdown-timeout",
    };

    public static Command Create(CliContext ctx)
    {
        var checkpointOpt = new Option<string>("--checkpoint") { HelpName = "CKPT", Required = true, Description = "VALL-E checkpoint (.pt, converted folder or .safetensors), or an e-c-k-e-r/vall-e .sft." };
        var symbolsOpt = new Option<string?>("--symbols") { HelpName = "FILE", Description = "k2 symbol table the model was trained with (unique_text_tokens.k2symbols); required for lifeiteng VALL-E, not used by VALL-E X." };
        var decoderOpt = new Option<string>("--codec-decoder") { HelpName = "DEC.onnx", Required = true, Description = "Decoder ONNX model: EnCodec's or Vocos (--vocoder)." };
        var vocoder = new VocoderCliOption();
        var encoderOpt = new Option<string?>("--codec-encoder") { HelpName = "ENC.onnx", Description = "EnCodec encoder ONNX model (needed for WAV voices; used once, at startup)." };
        var voiceOpt = new Option<string[]>("--voice")
        {
            HelpName = "NAME=FILE:TRANSCRIPT|NAME=PRESET.npz|NAME=FILE",
            Description = "A voice: a WAV recording (or EnCodec codes .npy) and its transcript ('@PATH' reads it from a file), a VALL-E X voice preset (.npz), or (e-c-k-e-r/vall-e) a recording alone. Repeatable.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var voicesDirOpt = new Option<string?>("--voices-dir") { HelpName = "DIR", Description = "Every NAME.npz (VALL-E X preset), and every NAME.wav (or NAME.npy) with a NAME.txt transcript beside it, is a voice." };
        var voiceLanguageOpt = new Option<string[]>("--voice-language")
        {
            HelpName = "NAME=L",
            Description = "VALL-E X: the language of a WAV/codes voice's transcript: en, zh, ja or auto (default: auto, detected). Repeatable.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var hostOpt = new Option<string>("--host") { HelpName = "ADDR", DefaultValueFactory = _ => "127.0.0.1", Description = "IP address to listen on (0.0.0.0: every interface; localhost)." };
        var portOpt = new Option<int>("--port") { HelpName = "PORT", DefaultValueFactory = _ => 8080, Description = "TCP port (0: any free port, printed at startup)." };
        var concurrencyOpt = new Option<int>("--max-concurrency") { HelpName = "N", DefaultValueFactory = _ => 1, Description = "Requests synthesising at once (the engine serialises anyway)." };
        var queueOpt = new Option<int>("--max-queue") { HelpName = "M", DefaultValueFactory = _ => 16, Description = "Requests waiting for their turn; beyond: 429 with Retry-After." };
        var inputOpt = new Option<int>("--max-input-chars") { HelpName = "N", DefaultValueFactory = _ => 4096, Description = "Longest 'input' (characters); longer: 413." };
        var bodyOpt = new Option<long>("--max-body-bytes") { HelpName = "N", DefaultValueFactory = _ => 65536, Description = "Largest request body; larger: 413." };
        var timeoutOpt = new Option<double>("--request-timeout") { HelpName = "SECONDS", DefaultValueFactory = _ => 300, Description = "Per-request limit, queueing included (504 when exceeded)." };
        var shutdownOpt = new Option<double>("--shutdown-timeout") { HelpName = "SECONDS", DefaultValueFactory = _ => 30, Description = "On SIGTERM/Ctrl-C, how long requests in flight may take to finish." };
        var threadsOpt = new Option<int>("--threads") { HelpName = "N", DefaultValueFactory = _ => 0, Description = "CPU threads of the model and the codec (0 = all cores)." };
        var languageOpt = new Option<string?>("--language", "-l") { HelpName = "L", Description = $"Language when a request gives none: an espeak-ng language (default {EspeakPhonemizer.DefaultLanguage}); VALL-E X: en, zh, ja, mix or auto (default)." };
        var device = new DeviceCliOptions();
        var promptLimit = new PromptLimitCliOptions();
        var tokenizer = new TokenizerCliOption();

        var command = new Command("serve", "HTTP text-to-speech server (OpenAI-compatible POST /v1/audio/speech; docs/serving.md).");
        foreach (var o in new Option[] { checkpointOpt, symbolsOpt, decoderOpt, encoderOpt, voiceOpt, voicesDirOpt, voiceLanguageOpt, hostOpt, portOpt,
                     concurrencyOpt, queueOpt, inputOpt, bodyOpt, timeoutOpt, shutdownOpt, threadsOpt, languageOpt })
            command.Options.Add(o);
        vocoder.AddTo(command);
        device.AddTo(command);
        promptLimit.AddTo(command);
        tokenizer.AddTo(command);

        command.SetAction(parse => CliApp.Guard(ctx, () =>
        {
            var serverOptions = new ValleServerOptions
            {
                Host = parse.GetValue(hostOpt)!,
                Port = parse.GetValue(portOpt),
                MaxConcurrency = parse.GetValue(concurrencyOpt),
                MaxQueue = parse.GetValue(queueOpt),
                MaxInputChars = parse.GetValue(inputOpt),
                MaxBodyBytes = parse.GetValue(bodyOpt),
                RequestTimeout = Seconds(parse.GetValue(timeoutOpt), "--request-timeout"),
                ShutdownTimeout = Seconds(parse.GetValue(shutdownOpt), "--shutdown-timeout"),
                Log = ctx.Info,
            };
            try { serverOptions.Validate(); }
            catch (ArgumentException e) { throw OptionErrors.ToUsage(e, Flags); }
            int threads = parse.GetValue(threadsOpt);
            if (threads is < 0 or > EngineCliOptions.MaxThreads) throw new UsageException($"--threads {threads} must be 0..{EngineCliOptions.MaxThreads} (0 = all cores)");

            var clientOptions = new ValleSpeechClientOptions
            {
                Checkpoint = parse.GetValue(checkpointOpt),
                Symbols = parse.GetValue(symbolsOpt),
                Tokenizer = tokenizer.Given(parse),   // null: the library reads $VALLE_ECKER_TOKENIZER (e-c-k-e-r/vall-e only)
                CodecDecoder = parse.GetValue(decoderOpt),
                Vocoder = vocoder.Read(parse),
                CodecEncoder = parse.GetValue(encoderOpt),
                Device = device.Name(parse),
                Threads = threads,
                Language = parse.GetValue(languageOpt),   // null: the library's default (en-us, or auto for VALL-E X)
                MaxPromptSeconds = promptLimit.Read(parse),
                Log = ctx.Info,
            };
            foreach (var (name, voice) in ReadVoices(parse.GetValue(voiceOpt) ?? [], parse.GetValue(voicesDirOpt), parse.GetValue(voiceLanguageOpt) ?? []))
            {
                if (voice.WavPath is not null && clientOptions.CodecEncoder is null)
                    throw new UsageException($"voice '{name}' is a WAV recording ({voice.WavPath}): pass --codec-encoder ENC.onnx to encode it");
                clientOptions.Voices[name] = voice;
            }

            var server = new ValleServer(serverOptions, () => Load(clientOptions));
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ctx.Cancellation);   // Ctrl-C
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal =>
            {
                signal.Cancel = true;   // not the default termination: stop gracefully and exit 0
                stop.Cancel();
            });
            try
            {
                server.RunAsync(stop.Token).GetAwaiter().GetResult();
            }
            catch (IOException e)
            {
                // Kestrel could not bind (address in use, no permission for the port).
                throw new InvalidInputException($"cannot listen on {serverOptions.Host}:{serverOptions.Port}: {e.Message}", e);
            }
            return ExitCodes.Success;
        }));
        return command;
    }

    private static ValleSpeechClient Load(ValleSpeechClientOptions options) => new(options);

    private static TimeSpan Seconds(double seconds, string flag)
    {
        if (!double.IsFinite(seconds) || seconds < 0 || seconds > 86400)
            throw new UsageException($"{flag} {seconds.ToString(CultureInfo.InvariantCulture)} must be in [0, 86400] seconds");
        return TimeSpan.FromSeconds(seconds);
    }

    private static List<(string Name, ValleVoice Voice)> ReadVoices(string[] specs, string? directory, string[] languageSpecs)
    {
        var languages = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string spec in languageSpecs)
        {
            int eq = spec.IndexOf('=');
            if (eq <= 0 || eq == spec.Length - 1) throw new UsageException($"--voice-language '{spec}' is not NAME=L (e.g. me=zh)");
            if (!languages.TryAdd(spec[..eq].Trim(), spec[(eq + 1)..].Trim()))
                throw new UsageException($"--voice-language: voice '{spec[..eq].Trim()}' is given twice");
        }
        var voices = new List<(string Name, ValleVoice Voice)>();
        foreach (string spec in specs)
        {
            int eq = spec.IndexOf('=');
            string? language = eq > 0 ? languages.GetValueOrDefault(spec[..eq].Trim()) : null;
            try { voices.Add(VoiceSources.Parse(spec, language)); }
            catch (ArgumentException e) { throw new UsageException($"--voice {OptionErrors.BareMessage(e)}", e); }
        }
        if (directory is not null)
        {
            try { voices.AddRange(VoiceSources.FromDirectory(directory, languages)); }
            catch (ArgumentException e) { throw new UsageException($"--voices-dir {OptionErrors.BareMessage(e)}", e); }
        }
        foreach (string name in languages.Keys.Where(n => !voices.Any(v => v.Name == n)))
            throw new UsageException($"--voice-language: there is no voice '{name}'");
        if (voices.Count == 0) throw new UsageException("no voices: give --voice NAME=FILE:TRANSCRIPT, --voice NAME=PRESET.npz or --voices-dir DIR");
        foreach (var group in voices.GroupBy(v => v.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
            throw new UsageException($"voice '{group.Key}' is given twice (--voice / --voices-dir)");
        return voices;
    }
}
