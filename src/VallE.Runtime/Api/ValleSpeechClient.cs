using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.AI;
using VallE.Runtime.Audio;
using VallE.Runtime.Codec;
using VallE.Runtime.Cuda;
using VallE.Runtime.Models;
using VallE.Runtime.Models.Ecker;
using VallE.Runtime.Onnx;
using VallE.Runtime.Pipeline;
using VallE.Runtime.Sampling;
using VallE.Runtime.Text;
using VallE.Runtime.Text.Ecker;
using VallE.Weights;

namespace VallE;

#pragma warning disable MEAI001 // ITextToSpeechClient and its types are experimental in Microsoft.Extensions.AI 11.

/// <summary>
/// VALL-E text to speech as a Microsoft.Extensions.AI <see cref="ITextToSpeechClient"/>: lifeiteng VALL-E / VALL-F
/// checkpoints (espeak-ng text front end and the model's symbol table) and VALL-E X checkpoints (their own BPE front
/// end: en, zh, ja, mixed; voices from presets, <see cref="ValleVoice.FromPreset"/>) and e-c-k-e-r/vall-e <c>.sft</c>
/// checkpoints (espeak-ng + upstream's <c>tokenizer.json</c>, <see cref="ValleSpeechClientOptions.Tokenizer"/>; voices
/// of a recording alone), EnCodec (ONNX) codec or Vocos, 24 kHz mono output.
/// <para>
/// The constructor does all the loading: the checkpoint (on the device <see cref="ValleSpeechClientOptions.Device"/>
/// selects, as the CLI's <c>--device</c>), the symbol table, the codec decoder, and every voice (WAV voices are encoded
/// with the EnCodec encoder there, once; the encoder is closed afterwards). Bad files throw
/// <see cref="InvalidInputException"/> (<see cref="NativeDependencyException"/> for a missing or broken native
/// library, e.g. espeak-ng or CUDA with <c>Device = "cuda"</c>); bad options <see cref="ArgumentException"/>.
/// </para>
/// <para>
/// Thread safety: every member may be called from any thread, but the engine is not re-entrant, so calls are
/// serialised on a <see cref="SemaphoreSlim"/>: concurrent calls wait their turn (asynchronously) and give the same
/// audio as the same calls made one after another. A streaming call takes its turn sentence by sentence (it holds
/// the model while it synthesises a sentence, never while the caller handles an update), so a slow or abandoned
/// consumer blocks neither other calls nor <see cref="Dispose"/>.
/// </para>
/// <para>
/// Cancellation: the token is honoured while waiting for the client and within one AR step or NAR stage while
/// synthesising (<see cref="OperationCanceledException"/>). <see cref="Dispose"/> cancels a call in progress, waits
/// for it to stop and releases the model; later calls throw <see cref="ObjectDisposedException"/>.
/// </para>
/// </summary>
public sealed class ValleSpeechClient : ITextToSpeechClient
{
    /// <summary>Output sample rate (Hz).</summary>
    public const int SampleRate = EncodecContract.SampleRate;
    /// <summary>Silence between sentences when <see cref="GetAudioAsync"/> joins them.</summary>
    public const double SentenceGapSeconds = SentenceJoin.GapSeconds;

    private const string WavMediaType = "audio/wav";
    private const string PcmMediaType = "audio/pcm";

    private readonly ICodeGenerator _generator;
    private readonly CudaDevice? _gpu;
    private readonly EncodecDecoder _decoder;
    private readonly SymbolTable? _symbols;            // null: VALL-E X
    private readonly Synthesizer? _vallex;             // VALL-E X: the one synthesizer (the language is per request)
    private readonly Synthesizer? _ecker;              // e-c-k-e-r/vall-e: the one synthesizer (the language is per request)
    private readonly Dictionary<string, VallexPrompt> _vallexPrompts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AudioCodes> _voices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ValleVoice> _voiceSources = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Synthesizer> _byLanguage = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _languageLock = new();
    private readonly string _defaultLanguage;
    private readonly IProgress<ValleProgress>? _progress;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _disposing = new();
    private readonly TextToSpeechClientMetadata _metadata;
    private readonly string _modelId;
    private int _disposed;

    /// <summary>Loads the model, codec, symbol table and voices (see the class remarks for errors).</summary>
    public ValleSpeechClient(ValleSpeechClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Checkpoint)) throw new ArgumentException("Checkpoint is required", nameof(options));
        if (string.IsNullOrWhiteSpace(options.CodecDecoder)) throw new ArgumentException("CodecDecoder is required", nameof(options));
        DeviceKind device;
        try { device = DeviceSelection.Parse(options.Device ?? "auto"); }
        catch (ArgumentException e) { throw new ArgumentException($"Device: {e.Message}", nameof(options), e); }
        if (options.Threads is < 0 or > 1024) throw new ArgumentException($"Threads {options.Threads} must be 0..1024 (null or 0 = all cores)", nameof(options));
        if (!(options.MaxPromptSeconds > 0)) throw new ArgumentException("MaxPromptSeconds must be > 0", nameof(options));
        foreach (var (name, voice) in options.Voices)
        {
            if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("a voice id must not be empty", nameof(options));
            if (voice is null) throw new ArgumentException($"voice '{name}' is null", nameof(options));
            if (voice.NeedsEncoder && string.IsNullOrWhiteSpace(options.CodecEncoder))
                throw new ArgumentException($"voice '{name}' is a WAV recording: CodecEncoder (encodec_encoder.onnx) is required to encode it", nameof(options));
        }
        _progress = options.Progress;
        var log = options.Log ?? (static _ => { });
        var onnx = new OnnxSessionOptions { IntraOpThreads = options.Threads ?? 0, Log = options.Log };

        EncodecDecoder? decoder = null;
        ICodeGenerator? generator = null;
        CudaDevice? gpu = null;
        try
        {
            // Cheap checks first (symbols, voices, codec), the model last.
            using var checkpoint = ModelCheckpoint.Open(options.Checkpoint);
            Synthesizer.CheckCanSpeak(checkpoint.Config);   // the family, before anything else loads
            bool vallex = checkpoint.Config.Family == ModelFamily.VallEX;
            bool ecker = checkpoint.Config.Ecker is not null;
            TextFrontEnd? defaultFrontEnd = null;
            EckerTextFrontEnd? eckerFrontEnd = null;
            if (!ecker && !string.IsNullOrWhiteSpace(options.Tokenizer))
                throw new ArgumentException("Tokenizer (upstream's tokenizer.json) is for e-c-k-e-r/vall-e checkpoints; this one is not", nameof(options));
            foreach (var (name, voice) in options.Voices)
            {
                if (!ecker && !voice.HasTranscript)
                    throw new ArgumentException($"voice '{name}' has no transcript: lifeiteng VALL-E and VALL-E X prompts need the words spoken in them " +
                        "(voices of a recording alone are for e-c-k-e-r/vall-e checkpoints)", nameof(options));
                if (ecker && voice.IsPreset)
                    throw new ArgumentException($"voice '{name}' is a VALL-E X preset; this checkpoint is e-c-k-e-r/vall-e (give a recording or its codes)", nameof(options));
            }
            if (ecker)
            {
                _defaultLanguage = string.IsNullOrWhiteSpace(options.Language) ? "en" : options.Language.Trim();
                CheckEckerLanguage(_defaultLanguage);
                string tokenizer = EckerTextFrontEnd.TokenizerPath(options.Tokenizer) ?? throw new ArgumentException(
                    $"Tokenizer is required for e-c-k-e-r/vall-e checkpoints: upstream's data/tokenizer.json (not shipped: AGPL-3.0), or ${EckerTextFrontEnd.TokenizerEnvironmentVariable}",
                    nameof(options));
                eckerFrontEnd = EckerTextFrontEnd.Load(tokenizer);
                Synthesizer.CheckCanSpeak(checkpoint.Config, eckerFrontEnd.Tokenizer);
            }
            else if (vallex)
            {
                _defaultLanguage = string.IsNullOrWhiteSpace(options.Language) ? "auto" : options.Language.Trim();
                CheckVallexLanguage(_defaultLanguage);
            }
            else
            {
                _defaultLanguage = string.IsNullOrWhiteSpace(options.Language) ? EspeakPhonemizer.DefaultLanguage : options.Language;
                if (string.IsNullOrWhiteSpace(options.Symbols))
                    throw new ArgumentException("Symbols (unique_text_tokens.k2symbols) is required for lifeiteng VALL-E checkpoints", nameof(options));
                foreach (var (name, voice) in options.Voices)
                    if (voice.IsPreset) throw new ArgumentException($"voice '{name}' is a VALL-E X preset; this checkpoint is lifeiteng VALL-E", nameof(options));
                _symbols = SymbolTable.Load(options.Symbols);
                Synthesizer.CheckCanSpeak(checkpoint.Config, _symbols);
                defaultFrontEnd = CreateFrontEnd(_defaultLanguage);
            }

            EncodecEncoder? encoder = null;
            try
            {
                foreach (var (name, voice) in options.Voices)
                {
                    if (voice.NeedsEncoder) encoder ??= EncodecEncoder.Open(options.CodecEncoder!, onnx);
                    if (vallex)
                    {
                        var prompt = voice.LoadVallex(encoder, options.MaxPromptSeconds, CancellationToken.None);
                        _vallexPrompts[name] = prompt;
                        _voices[name] = prompt.Codes;
                    }
                    else
                    {
                        _voices[name] = voice.Load(encoder, options.MaxPromptSeconds, CancellationToken.None);
                    }
                    _voiceSources[name] = voice;
                }
            }
            finally
            {
                encoder?.Dispose();
            }
            decoder = EncodecDecoder.Open(options.CodecDecoder, onnx);
            if (options.Vocoder is { } vocoder) decoder.Expect(vocoder);
            generator = CodeGeneratorFactory.Create(device, checkpoint,
                new EngineOptions { Threads = options.Threads ?? 0 }, log, out gpu, nameof(options.Device));
            if (generator.Device == "cuda")
            {
                // The codec follows the model onto the GPU where this ONNX Runtime build has the CUDA provider (else it
                // stays on the CPU, with one log line). It was opened on the CPU first so a bad file fails before the model loads.
                decoder.Dispose();
                decoder = null;
                decoder = EncodecDecoder.Open(options.CodecDecoder, onnx with { PreferCuda = true });
                if (options.Vocoder is { } vocoderAgain) decoder.Expect(vocoderAgain);
            }
            if (ecker) _ecker = new Synthesizer(generator, eckerFrontEnd!, decoder);
            else if (vallex) _vallex = new Synthesizer(generator, decoder);
            else _byLanguage[_defaultLanguage] = new Synthesizer(generator, defaultFrontEnd!, decoder);
        }
        catch
        {
            generator?.Dispose();
            gpu?.Dispose();
            decoder?.Dispose();
            throw;
        }
        _generator = generator;
        _gpu = gpu;
        _decoder = decoder;
        _modelId = Path.GetFileName(Path.TrimEndingDirectorySeparator(options.Checkpoint));
        _metadata = new TextToSpeechClientMetadata("valle", null, _modelId);
    }

    /// <summary>The voice ids this client speaks with.</summary>
    public IReadOnlyCollection<string> VoiceIds => _voices.Keys;

    /// <summary>"cpu" or "cuda": where the model runs.</summary>
    public string Device => _generator.Device;

    /// <summary>
    /// Speaks <paramref name="text"/> in the voice <see cref="TextToSpeechOptions.VoiceId"/> names (or the only voice).
    /// The response holds one <see cref="DataContent"/>: <c>audio/wav</c> (24 kHz mono PCM16), or raw little-endian
    /// 16-bit samples (<c>audio/pcm</c>) with <see cref="TextToSpeechOptions.AudioFormat"/> <c>"pcm"</c>. Its
    /// <see cref="TextToSpeechResponse.AdditionalProperties"/> hold <c>audio_seconds</c>, the stage times
    /// (<c>text_ms</c>, <c>ar_ms</c>, <c>nar_ms</c>, <c>codec_ms</c>, <c>total_ms</c>), <c>ar_steps</c>, <c>frames</c>,
    /// <c>stop_reason</c>, <c>sentences</c>, <c>clipped_samples</c> and <c>device</c>; <see cref="TextToSpeechResponse.Usage"/>
    /// counts the generated codec frames (75 per second) as output audio tokens.
    /// </summary>
    public async Task<TextToSpeechResponse> GetAudioAsync(string text, TextToSpeechOptions? options = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        Call call = Prepare(text, options, splitByDefault: false);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
        try
        {
            await _gate.WaitAsync(linked.Token).ConfigureAwait(false);
            try
            {
                ThrowIfDisposed();
                return await Task.Run(() => Synthesize(call, linked.Token), linked.Token).ConfigureAwait(false);
            }
            finally
            {
                _gate.Release();
            }
        }
        catch (OperationCanceledException) when (Volatile.Read(ref _disposed) != 0 && !cancellationToken.IsCancellationRequested)
        {
            throw new ObjectDisposedException(nameof(ValleSpeechClient));
        }
    }

    /// <summary>
    /// Speaks <paramref name="text"/> sentence by sentence (unless <see cref="ValleSpeechOptions.SplitSentences"/> is
    /// false), yielding one <see cref="TextToSpeechResponseUpdateKind.AudioUpdated"/> update per sentence as soon as it
    /// is synthesised. Each holds that sentence's audio as one <see cref="DataContent"/> (a complete WAV file, or raw
    /// PCM16 with <c>AudioFormat = "pcm"</c>) and in its AdditionalProperties <c>sentence</c>, <c>sentences</c>,
    /// <c>text</c> and the same timing keys as <see cref="GetAudioAsync"/>. The whole text is checked (tokenized)
    /// before the first sentence is synthesised.
    /// </summary>
    public async IAsyncEnumerable<TextToSpeechResponseUpdate> GetStreamingAudioAsync(string text, TextToSpeechOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        Call call = Prepare(text, options, splitByDefault: true);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
        CancellationToken token = linked.Token;
        string responseId = NewResponseId();
        var observer = call.Progress is null ? null : new ProgressObserver(call.Progress, call.Sentences);
        using var pieces = call.Synthesizer.Run(call.Request, observer, token).GetEnumerator();
        while (true)
        {
            // The model is held for one sentence at a time, never across a yield: a consumer that stops
            // iterating (or never disposes the enumerator) cannot block other calls or Dispose.
            await WaitForTurn(token, cancellationToken).ConfigureAwait(false);
            SynthesizedPiece? piece;
            try
            {
                piece = await Next(pieces, token, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _gate.Release();
            }
            if (piece is null) break;
            {
                if (observer is not null) observer.Sentence = piece.Index + 1;
                byte[] wav = Encode([piece], out long clipped);
                var props = Stats([piece], clipped, Math.Max(0, wav.Length - WavHeaderBytes) / 2);
                props["sentence"] = piece.Index;
                props["sentences"] = piece.Count;
                props["text"] = piece.Text;
                yield return new TextToSpeechResponseUpdate([Content(wav, call.Pcm)])
                {
                    Kind = TextToSpeechResponseUpdateKind.AudioUpdated,
                    ResponseId = responseId,
                    ModelId = _modelId,
                    AdditionalProperties = props,
                };
            }
        }
    }

    /// <summary>
    /// This client for its own type, <see cref="ITextToSpeechClient"/> or <see cref="object"/>; its
    /// <see cref="TextToSpeechClientMetadata"/>; the code generator (<see cref="ICodeGenerator"/>,
    /// <see cref="ValleCodeGenerator"/>), the <see cref="ValleModel"/> and the
    /// <see cref="ModelConfig"/>. Null for anything else and for any <paramref name="serviceKey"/>.
    /// </summary>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(TextToSpeechClientMetadata)) return _metadata;
        if (serviceType.IsInstanceOfType(this)) return this;
        if (serviceType.IsInstanceOfType(_generator)) return _generator;
        if (_generator is ValleCodeGenerator g && serviceType.IsInstanceOfType(g.Model)) return g.Model;
        if (_generator is EckerCodeGenerator e && serviceType.IsInstanceOfType(e.Model)) return e.Model;
        if (serviceType == typeof(ModelConfig)) return _generator.Config;
        return null;
    }

    /// <summary>Cancels a call in progress, waits for it to stop, and releases the model and codec. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _disposing.Cancel();
        _gate.Wait();   // the call in progress (if any) has stopped; the gate stays taken so nothing runs again
        _generator.Dispose();
        _gpu?.Dispose();
        _decoder.Dispose();
    }

    // ---- one call ----

    private sealed record Call(Synthesizer Synthesizer, SynthesisRequest Request, bool Pcm, int Sentences, IProgress<ValleProgress>? Progress);

    private const int WavHeaderBytes = 44;

    private Call Prepare(string text, TextToSpeechOptions? options, bool splitByDefault)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (string.IsNullOrWhiteSpace(text)) throw new ArgumentException("the text to speak is empty", nameof(text));
        var typed = options as ValleSpeechOptions;
        var extra = options?.AdditionalProperties;

        AudioCodes voice = ResolveVoice(options?.VoiceId);
        bool pcm = options?.AudioFormat?.Trim().ToLowerInvariant() switch
        {
            null or "" or "wav" or "audio/wav" or "audio/x-wav" or "audio/wave" => false,
            "pcm" or "audio/pcm" or "s16le" or "pcm16" => true,
            _ => throw new ArgumentException($"AudioFormat '{options!.AudioFormat}' is not supported: use \"wav\" (default) or \"pcm\" (raw 16-bit little-endian, 24 kHz mono)", nameof(options)),
        };
        var defaults = new SamplingOptions();
        var sampling = new SamplingOptions
        {
            TopK = typed?.TopK ?? Int(extra, "top_k") ?? defaults.TopK,
            TopP = typed?.TopP ?? Float(extra, "top_p") ?? defaults.TopP,
            Temperature = typed?.Temperature ?? Float(extra, "temperature") ?? defaults.Temperature,
            MinP = typed?.MinP ?? Float(extra, "min_p") ?? defaults.MinP,
            RepetitionPenalty = typed?.RepetitionPenalty ?? Float(extra, "repetition_penalty") ?? defaults.RepetitionPenalty,
            RepetitionWindow = typed?.RepetitionWindow ?? Int(extra, "repetition_window") ?? defaults.RepetitionWindow,
            Seed = typed?.Seed ?? ULong(extra, "seed"),
        };
        sampling.Validate();   // ArgumentOutOfRangeException naming the property
        double? maxDuration = typed?.MaxDuration ?? Double(extra, "max_duration");
        int? maxFrames = maxDuration is { } seconds ? GenerationRequest.MaxFramesFor(seconds) : null;
        bool split = typed?.SplitSentences ?? Bool(extra, "split_sentences") ?? splitByDefault;
        int bestOf = typed?.BestOf ?? Int(extra, "best_of") ?? 1;
        if (bestOf is < 1 or > ValleModel.MaxBestOf)
            throw new ArgumentException($"BestOf {bestOf} must be in 1..{ValleModel.MaxBestOf}", nameof(options));
        string? modeName = typed?.PromptMode ?? String(extra, "prompt_mode");
        PromptMode mode = modeName?.Trim().ToLowerInvariant() switch
        {
            null or "" or "fixed" or "fixed-prompt" => PromptMode.Fixed,
            "sliding" or "sliding-window" => PromptMode.Sliding,
            _ => throw new ArgumentException($"PromptMode '{modeName}' is not fixed or sliding", nameof(options)),
        };
        string? language = string.IsNullOrWhiteSpace(options?.Language) ? null : options.Language.Trim();
        // The e-c-k-e-r/vall-e options, each read once (typed property, else its key): EckerSettings.Create judges them for
        // an ecker checkpoint; any of them set on another family is refused below.
        string? eckerMode = typed?.Mode ?? String(extra, "mode");
        int? length = typed?.Length ?? Int(extra, "length");
        int? demaskSteps = typed?.DemaskSteps ?? Int(extra, "demask_steps");
        float? cfgStrength = typed?.CfgStrength ?? Float(extra, "cfg_strength");
        float? cfgRescale = typed?.CfgRescale ?? Float(extra, "cfg_rescale");
        float? narTemperature = typed?.NarTemperature ?? Float(extra, "nar_temperature");
        float? minArTemperature = typed?.MinArTemperature ?? Float(extra, "min_ar_temperature");
        float? minNarTemperature = typed?.MinNarTemperature ?? Float(extra, "min_nar_temperature");
        float? repetitionPenaltyDecay = typed?.RepetitionPenaltyDecay ?? Float(extra, "repetition_penalty_decay");
        float? lengthPenalty = typed?.LengthPenalty ?? Float(extra, "length_penalty");
        Synthesizer synthesizer;
        EckerSettings? ecker = null;
        if (_ecker is not null)
        {
            language ??= _defaultLanguage;
            CheckEckerLanguage(language);
            if (mode != PromptMode.Fixed) throw new ArgumentException("PromptMode sliding is for VALL-E X checkpoints", nameof(options));
            if (bestOf != 1) throw new ArgumentException($"BestOf {bestOf}: best-of is VALL-E X's; an e-c-k-e-r/vall-e model generates one candidate", nameof(options));
            ecker = EckerSettings.Create(_generator.Config.Ecker!, eckerMode, length, demaskSteps, cfgStrength, cfgRescale, sampling,
                narTemperature, minArTemperature, minNarTemperature, repetitionPenaltyDecay, lengthPenalty);
            synthesizer = _ecker;
        }
        else if (_vallex is not null)
        {
            language ??= _defaultLanguage;
            CheckVallexLanguage(language);
            synthesizer = _vallex;
        }
        else
        {
            if (mode != PromptMode.Fixed) throw new ArgumentException("PromptMode sliding is for VALL-E X checkpoints", nameof(options));
            synthesizer = ForLanguage(language);
        }
        if (ecker is null)
        {
            foreach (var (key, value) in new (string, object?)[]
                     {
                         ("Mode", eckerMode), ("Length", length), ("DemaskSteps", demaskSteps), ("CfgStrength", cfgStrength),
                         ("CfgRescale", cfgRescale), ("NarTemperature", narTemperature), ("MinArTemperature", minArTemperature),
                         ("MinNarTemperature", minNarTemperature), ("RepetitionPenaltyDecay", repetitionPenaltyDecay), ("LengthPenalty", lengthPenalty),
                     })
                if (value is not null) throw new ArgumentException($"{key} is an e-c-k-e-r/vall-e option; this checkpoint is not one", key);
        }
        var request = new SynthesisRequest
        {
            PromptText = _ecker is null ? TranscriptOf(options?.VoiceId) : "",
            Text = text,
            PromptCodes = voice,
            Sampling = sampling,
            MaxFrames = maxFrames,
            SplitSentences = split,
            Language = _vallex is null && _ecker is null ? null : language,
            Ecker = ecker,
            VallexPrompt = _vallex is null ? null : VallexPromptOf(options?.VoiceId),
            PromptMode = mode,
            BestOf = bestOf,
        };
        int sentences = split ? Math.Max(1, SentenceSplitter.Split(text).Count) : 1;
        return new Call(synthesizer, request, pcm, sentences, typed?.Progress ?? _progress);
    }

    private AudioCodes ResolveVoice(string? voiceId)
    {
        if (voiceId is null)
        {
            if (_voices.Count == 1) return _voices.Values.First();
            throw new ArgumentException(_voices.Count == 0
                ? "this client has no voices: add one to ValleSpeechClientOptions.Voices"
                : $"VoiceId is required: this client has {_voices.Count} voices ({string.Join(", ", _voices.Keys.Order(StringComparer.Ordinal))})", "options");
        }
        if (_voices.TryGetValue(voiceId, out var codes)) return codes;
        throw new ArgumentException($"unknown VoiceId '{voiceId}' (voices: {string.Join(", ", _voices.Keys.Order(StringComparer.Ordinal))})", "options");
    }

    private string TranscriptOf(string? voiceId) =>
        voiceId is null ? _voiceSources.Values.First().Transcript : _voiceSources[voiceId].Transcript;

    private VallexPrompt VallexPromptOf(string? voiceId) =>
        voiceId is null ? _vallexPrompts.Values.First() : _vallexPrompts[voiceId];

    private static void CheckEckerLanguage(string language)
    {
        if (EckerTextFrontEnd.LanguageId(language) < 0)
            throw new ArgumentException($"Language '{language}': e-c-k-e-r/vall-e speaks {string.Join(", ", EckerTextFrontEnd.Languages)}", "options");
    }

    private static void CheckVallexLanguage(string language)
    {
        if (!Runtime.Text.Vallex.VallexTextFrontEnd.Languages.Contains(language))
            throw new ArgumentException($"Language '{language}': VALL-E X speaks en, zh, ja, mix or auto", "options");
    }

    /// <summary>The synthesizer whose text front end speaks <paramref name="language"/> (espeak-ng code), made on first use.</summary>
    private Synthesizer ForLanguage(string? language)
    {
        string key = string.IsNullOrWhiteSpace(language) ? _defaultLanguage : language.Trim();
        lock (_languageLock)
        {
            if (_byLanguage.TryGetValue(key, out var s)) return s;
            TextFrontEnd frontEnd;
            try { frontEnd = CreateFrontEnd(key); }
            catch (InvalidInputException e) when (e is not NativeDependencyException)
            {
                throw new ArgumentException($"Language: {e.Message}", "options", e);
            }
            s = new Synthesizer(_generator, frontEnd, _decoder);
            _byLanguage[key] = s;
            return s;
        }
    }

    private TextFrontEnd CreateFrontEnd(string language) => new(new EspeakPhonemizer(language), _symbols!);

    private TextToSpeechResponse Synthesize(Call call, CancellationToken token)
    {
        var observer = call.Progress is null ? null : new ProgressObserver(call.Progress, call.Sentences);
        var pieces = new List<SynthesizedPiece>();
        foreach (var piece in call.Synthesizer.Run(call.Request, observer, token))
        {
            pieces.Add(piece);
            if (observer is not null) observer.Sentence = piece.Index + 1;
        }
        byte[] wav = Encode(pieces, out long clipped);
        return new TextToSpeechResponse([Content(wav, call.Pcm)])
        {
            ResponseId = NewResponseId(),
            ModelId = _modelId,
            AdditionalProperties = Stats(pieces, clipped, (wav.Length - WavHeaderBytes) / 2),
            Usage = new UsageDetails
            {
                OutputAudioTokenCount = pieces.Sum(p => (long)p.Frames),
                OutputTokenCount = pieces.Sum(p => (long)p.Frames),
                TotalTokenCount = pieces.Sum(p => (long)p.Frames),
            },
        };
    }

    /// <summary>The pieces as one PCM16 WAV (joined with <see cref="SentenceGapSeconds"/> of silence).</summary>
    private static byte[] Encode(IReadOnlyList<SynthesizedPiece> pieces, out long clipped)
    {
        var stream = new MemoryStream();
        var writer = new WavStreamWriter(stream, SampleRate, WavOutputFormat.Pcm16);
        for (int i = 0; i < pieces.Count; i++) SentenceJoin.Append(writer, pieces[i].Samples, first: i == 0);
        writer.Finish();
        clipped = writer.Clipped;
        return stream.ToArray();
    }

    private static DataContent Content(byte[] wav, bool pcm) =>
        pcm ? new DataContent(wav.AsMemory(WavHeaderBytes), PcmMediaType) : new DataContent(wav, WavMediaType);

    private AdditionalPropertiesDictionary Stats(IReadOnlyList<SynthesizedPiece> pieces, long clipped, long samples)
    {
        var t = StageTimes.Zero;
        foreach (var p in pieces) t += p.Times;
        return new AdditionalPropertiesDictionary
        {
            ["audio_seconds"] = samples / (double)SampleRate,
            ["text_ms"] = t.TextMs,
            ["ar_ms"] = t.ArMs,
            ["nar_ms"] = t.NarMs,
            ["codec_ms"] = t.CodecMs,
            ["total_ms"] = t.TotalMs,
            ["ar_steps"] = pieces.Sum(p => p.ArSteps),
            ["frames"] = pieces.Sum(p => p.Frames),
            ["stop_reason"] = pieces.Count == 1 ? pieces[0].StopReason : string.Join(",", pieces.Select(p => p.StopReason)),
            ["sentences"] = pieces.Count,
            ["clipped_samples"] = clipped,
            ["device"] = _generator.Device,
        };
    }

    private async Task WaitForTurn(CancellationToken token, CancellationToken callerToken)
    {
        try
        {
            await _gate.WaitAsync(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (Volatile.Read(ref _disposed) != 0 && !callerToken.IsCancellationRequested)
        {
            throw new ObjectDisposedException(nameof(ValleSpeechClient));
        }
        if (Volatile.Read(ref _disposed) != 0)
        {
            _gate.Release();
            throw new ObjectDisposedException(nameof(ValleSpeechClient));
        }
    }

    private async Task<SynthesizedPiece?> Next(IEnumerator<SynthesizedPiece> pieces, CancellationToken token, CancellationToken callerToken)
    {
        try
        {
            return await Task.Run(() => pieces.MoveNext() ? pieces.Current : null, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (Volatile.Read(ref _disposed) != 0 && !callerToken.IsCancellationRequested)
        {
            throw new ObjectDisposedException(nameof(ValleSpeechClient));
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    private static string NewResponseId() => Guid.NewGuid().ToString("N");

    // ---- AdditionalProperties values: numbers (any numeric type, JsonElement or invariant string) ----

    private static decimal? Number(AdditionalPropertiesDictionary? props, string key)
    {
        if (props is null || !props.TryGetValue(key, out object? value) || value is null) return null;
        try
        {
            return value switch
            {
                JsonElement { ValueKind: JsonValueKind.Number } j => j.GetDecimal(),
                JsonElement { ValueKind: JsonValueKind.String } j => decimal.Parse(j.GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture),
                JsonElement { ValueKind: JsonValueKind.Null } => null,
                string s => decimal.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture),
                bool => throw new FormatException(),
                IConvertible c => c.ToDecimal(CultureInfo.InvariantCulture),
                _ => throw new FormatException(),
            };
        }
        catch (Exception e) when (e is FormatException or OverflowException or InvalidCastException or InvalidOperationException)
        {
            throw new ArgumentException($"AdditionalProperties[\"{key}\"] = {value} is not a finite number", "options", e);
        }
    }

    private static int? Int(AdditionalPropertiesDictionary? props, string key) => Number(props, key) switch
    {
        null => null,
        decimal d when d == decimal.Truncate(d) && d >= int.MinValue && d <= int.MaxValue => (int)d,
        var d => throw new ArgumentException($"AdditionalProperties[\"{key}\"] = {d} must be an integer", "options"),
    };

    private static ulong? ULong(AdditionalPropertiesDictionary? props, string key) => Number(props, key) switch
    {
        null => null,
        decimal d when d == decimal.Truncate(d) && d >= 0 && d <= ulong.MaxValue => (ulong)d,
        var d => throw new ArgumentException($"AdditionalProperties[\"{key}\"] = {d} must be an integer >= 0", "options"),
    };

    private static string? String(AdditionalPropertiesDictionary? props, string key)
    {
        if (props is null || !props.TryGetValue(key, out object? value) || value is null) return null;
        return value switch
        {
            string s => s,
            JsonElement { ValueKind: JsonValueKind.String } j => j.GetString(),
            JsonElement { ValueKind: JsonValueKind.Null } => null,
            _ => throw new ArgumentException($"AdditionalProperties[\"{key}\"] = {value} must be a string", "options"),
        };
    }

    private static float? Float(AdditionalPropertiesDictionary? props, string key) => (float?)Number(props, key);

    private static double? Double(AdditionalPropertiesDictionary? props, string key) => (double?)Number(props, key);

    private static bool? Bool(AdditionalPropertiesDictionary? props, string key)
    {
        if (props is null || !props.TryGetValue(key, out object? value) || value is null) return null;
        return value switch
        {
            bool b => b,
            JsonElement { ValueKind: JsonValueKind.True } => true,
            JsonElement { ValueKind: JsonValueKind.False } => false,
            string s when bool.TryParse(s, out bool b) => b,
            _ => throw new ArgumentException($"AdditionalProperties[\"{key}\"] = {value} must be true or false", "options"),
        };
    }

    /// <summary>Turns AR/NAR logits callbacks into <see cref="ValleProgress"/> reports.</summary>
    private sealed class ProgressObserver(IProgress<ValleProgress> progress, int sentences) : IInferenceObserver
    {
        public int Sentence { get; set; }

        public void OnArLogits(int sequence, int step, ReadOnlySpan<float> logits) =>
            progress.Report(new ValleProgress(Sentence, sentences, ValleStage.Ar, step, step));

        public void OnNarLogits(int sequence, int stage, int frames, ReadOnlySpan<float> logits) =>
            progress.Report(new ValleProgress(Sentence, sentences, ValleStage.Nar, stage, frames));
    }
}
