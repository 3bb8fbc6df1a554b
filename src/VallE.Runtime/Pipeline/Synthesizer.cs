using System.Diagnostics;
using VallE.Runtime.Codec;
using VallE.Runtime.Models;
using VallE.Runtime.Text;
using VallE.Runtime.Sampling;
using VallE.Runtime.Text.Ecker;
using VallE.Runtime.Text.Vallex;

namespace VallE.Runtime.Pipeline;

/// <summary>
/// Text + prompt codes -> speech, the way lifeiteng's <c>valle/bin/infer.py</c> does it: phonemize
/// <c>"{prompt_text} {text}"</c> for the model's text tokens and the prompt transcript alone for
/// <c>enroll_x_lens</c>, run the AR + NAR, decode the generated frames with EnCodec. With
/// <see cref="SynthesisRequest.SplitSentences"/> each sentence is a separate utterance with the same prompt, and
/// pieces are yielded as they finish so that callers can write audio early.
/// <para>
/// VALL-E X checkpoints (<see cref="Synthesizer(ICodeGenerator, EncodecDecoder)"/>) speak the way Plachtaa's
/// <c>utils/generation.py</c> does: the text through <see cref="VallexTextFrontEnd"/> in
/// <see cref="SynthesisRequest.Language"/>, the prompt's transcript tokens (<see cref="VallexPrompt"/>) in front of
/// the text's, <c>enroll_x_lens</c> = their count, the prompt's language on those positions and the text's
/// per-token languages on the rest; long text as <c>generate_audio_from_long_text</c>
/// (<see cref="SynthesisRequest.PromptMode"/>), and <c>best_of</c> (<see cref="SynthesisRequest.BestOf"/>).
/// </para>
/// </summary>
public sealed partial class Synthesizer
{
    private readonly ICodeGenerator _model;
    private readonly TextFrontEnd? _text;   // lifeiteng only (VALL-E X's front end is VallexTextFrontEnd)
    private readonly EckerTextFrontEnd? _ecker;   // e-c-k-e-r/vall-e only
    private readonly EncodecDecoder _decoder;

    public Synthesizer(ValleModel model, TextFrontEnd text, EncodecDecoder decoder)
        : this(new ValleCodeGenerator(model ?? throw new ArgumentNullException(nameof(model))), text, decoder) { }

    /// <summary>Synthesis on any backend (<see cref="ValleCodeGenerator"/>); the caller owns <paramref name="model"/>.</summary>
    public Synthesizer(ICodeGenerator model, TextFrontEnd text, EncodecDecoder decoder)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _text = text ?? throw new ArgumentNullException(nameof(text));
        _decoder = decoder ?? throw new ArgumentNullException(nameof(decoder));
        if (model.Config.Family == VallE.Weights.ModelFamily.VallEX)
            throw new InvalidInputException("VALL-E X speaks with its own (BPE) text front end, not a symbol table: use new Synthesizer(model, decoder)");
        if (model.Config.Family == VallE.Weights.ModelFamily.Ecker)
            throw new InvalidInputException("e-c-k-e-r/vall-e speaks with its own front end, not a symbol table: use new Synthesizer(model, EckerTextFrontEnd, decoder)");
        CheckCanSpeak(model.Config, text.Symbols);
    }

    /// <summary>VALL-E X synthesis, with its own text front end (<see cref="VallexTextFrontEnd"/>); the caller owns <paramref name="model"/>.</summary>
    public Synthesizer(ICodeGenerator model, EncodecDecoder decoder)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _decoder = decoder ?? throw new ArgumentNullException(nameof(decoder));
        if (model.Config.Family == VallE.Weights.ModelFamily.Ecker)
            throw new InvalidInputException("e-c-k-e-r/vall-e checkpoints need their text front end (espeak-ng and upstream's tokenizer.json): use new Synthesizer(model, EckerTextFrontEnd, decoder)");
        if (model.Config.Family != VallE.Weights.ModelFamily.VallEX)
            throw new InvalidInputException("lifeiteng VALL-E/VALL-F checkpoints need a text front end (espeak-ng and the symbol table the model was trained with)");
        CheckCanSpeak(model.Config);
    }

    /// <summary>Whether this synthesizer speaks VALL-E X (its own front end; the request's Language applies).</summary>
    public bool IsVallEX => _model.Config.Family == VallE.Weights.ModelFamily.VallEX;

    /// <summary>Whether this synthesizer speaks e-c-k-e-r/vall-e (its front end; the request's Language and Ecker apply).</summary>
    public bool IsEcker => _ecker is not null;

    /// <summary>
    /// Whether text can be spoken with this model and symbol table: EnCodec's 8 codebooks, and no more symbols than
    /// the model has text-embedding rows (more would hand it ids it cannot embed: usually the table of another
    /// model). VALL-E X takes no symbol table (its front end is <see cref="VallexTextFrontEnd"/>): its bpe_69
    /// vocabulary must fit the text embedding. Callers run it as soon as the checkpoint's configuration is known,
    /// before the model loads.
    /// </summary>
    /// <param name="symbols">null: check the model alone (before a table is loaded).</param>
    public static void CheckCanSpeak(VallE.Weights.ModelConfig config, SymbolTable? symbols = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Family == VallE.Weights.ModelFamily.VallEX && config.TextVocab > 0 && config.TextVocab < VallexTextFrontEnd.VocabularySize)
            throw new InvalidInputException($"the model's text embedding has {config.TextVocab} rows, fewer than the {VallexTextFrontEnd.VocabularySize} of VALL-E X's bpe_69 vocabulary");
        if (config.NumQuantizers != EncodecContract.Quantizers)
            throw new InvalidInputException($"the model uses {config.NumQuantizers} codebooks; EnCodec 6 kbps has {EncodecContract.Quantizers}");
        if (symbols is not null && config.TextVocab > 0 && symbols.Count > config.TextVocab)
            throw new InvalidInputException($"the symbol table {symbols.Source} has {symbols.Count} symbols but the model's text embedding has " +
                $"{config.TextVocab} rows: is it the table this checkpoint was trained with?");
    }

    /// <summary>Synthesises the request; yields one piece per sentence (or one for the whole text).</summary>
    /// <param name="observer">sees AR/NAR logits (progress display); may be null.</param>
    public IEnumerable<SynthesizedPiece> Run(SynthesisRequest request, IInferenceObserver? observer = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.BestOf is < 1 or > ValleModel.MaxBestOf)
            throw new InvalidInputException($"best-of {request.BestOf} must be in 1..{ValleModel.MaxBestOf}") { Setting = nameof(SynthesisRequest.BestOf) };
        if (IsEcker) return RunEcker(request, observer, cancellation);
        return IsVallEX ? RunVallex(request, observer, cancellation) : RunLifeiteng(request, observer, cancellation);
    }

    private IEnumerable<SynthesizedPiece> RunLifeiteng(SynthesisRequest request, IInferenceObserver? observer, CancellationToken cancellation)
    {
        var pieces = Prepare(request, cancellation);
        for (int i = 0; i < pieces.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            var (text, tokens, textMs) = pieces[i];
            yield return RunOne(i, pieces.Count, text, tokens, textMs, request, observer, cancellation);
        }
    }

    /// <summary>
    /// Splits and tokenizes the whole text before anything is synthesised, so that a sentence with nothing to
    /// pronounce, a phoneme the table lacks or an over-long sentence fails at once, not after minutes of audio.
    /// </summary>
    private List<(string Text, TextTokens Tokens, double TextMs)> Prepare(SynthesisRequest request, CancellationToken cancellation)
    {
        IReadOnlyList<string> texts = request.SplitSentences ? SentenceSplitter.Split(request.Text) : [request.Text];
        if (texts.Count == 0) throw new InvalidInputException("the text to synthesise is empty");
        var pieces = new List<(string, TextTokens, double)>(texts.Count);
        for (int i = 0; i < texts.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            string where = texts.Count > 1 ? $"sentence {i + 1} of {texts.Count}: " : "";
            TextTokens tokens;
            try { tokens = _text!.Tokenize(request.PromptText, texts[i]); }
            catch (InvalidInputException e) when (where.Length > 0) { throw new InvalidInputException(where + e.Message, e); }
            if (tokens.Tokens.Length > GenerationRequest.MaxTextTokens)
                throw new InvalidInputException($"{where}prompt transcript + text make {tokens.Tokens.Length} tokens; one utterance takes at most " +
                    $"{GenerationRequest.MaxTextTokens}" + (request.SplitSentences ? ": split this sentence" : ": split the text into sentences (or shorten it)"))
                {
                    Setting = request.SplitSentences ? null : nameof(SynthesisRequest.SplitSentences),
                };
            pieces.Add((texts[i], tokens, clock.Elapsed.TotalMilliseconds));
        }
        return pieces;
    }

    private SynthesizedPiece RunOne(int index, int count, string text, TextTokens tokens, double textMs, SynthesisRequest request,
        IInferenceObserver? observer, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        GenerationResult result = Generate(new GenerationRequest
        {
            TextTokens = tokens.Tokens,
            PromptCodes = request.PromptCodes,
            EnrollTokens = tokens.EnrollTokens,
            Sampling = request.Sampling,
            MaxFrames = request.MaxFrames,
        }, request.BestOf, observer, cancellation);
        return Decode(index, count, text, result, textMs, cancellation);
    }

    private GenerationResult Generate(GenerationRequest request, int bestOf, IInferenceObserver? observer, CancellationToken cancellation) =>
        bestOf > 1 ? _model.GenerateBestOf(request, bestOf, observer, cancellation) : _model.Generate(request, observer, cancellation);

    private SynthesizedPiece Decode(int index, int count, string text, GenerationResult result, double textMs, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        float[] samples = [];
        double codecMs = 0;
        if (result.Frames > 0)
        {
            clock.Restart();
            samples = _decoder.Decode(result.Codes, cancellation);
            codecMs = clock.Elapsed.TotalMilliseconds;
        }
        return new SynthesizedPiece(index, count, text, samples, result.Frames, result.ArSteps, result.StopReason,
            new StageTimes(textMs, result.ArMilliseconds, result.NarMilliseconds, codecMs))
        {
            Codes = result.Codes,
            ArMeanLogProbability = result.ArMeanLogProbability,
        };
    }

    // ---- VALL-E X ----

    /// <summary>The VALL-E X prompt of <paramref name="request"/> (see <see cref="SynthesisRequest.VallexPrompt"/>).</summary>
    public static VallexPrompt ResolveVallexPrompt(SynthesisRequest request, string textLanguage)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.VallexPrompt is { } p) return p;
        if (request.PromptCodes.Frames == 0 && string.IsNullOrWhiteSpace(request.PromptText)) return VallexPrompt.None(textLanguage);
        if (request.PromptCodes.Frames == 0)
            throw new InvalidInputException("a prompt transcript was given without prompt codes");
        return VallexPrompt.FromTranscript(request.PromptCodes, request.PromptText, request.PromptLanguage ?? "auto");
    }

    /// <summary>
    /// The model request upstream's <c>generate_audio</c> builds for one text: the prompt's transcript tokens then
    /// the text's (<c>torch.cat([text_prompts, text_tokens])</c>, no &lt;bos&gt;/&lt;eos&gt;), <c>enroll_x_lens</c> =
    /// the prompt's token count, the prompt's language for those positions and the text's per-token languages
    /// (<c>text_language=langs</c>) for the rest.
    /// </summary>
    public static GenerationRequest VallexRequest(VallexPrompt prompt, VallexTokens text, SamplingOptions? sampling = null, int? maxFrames = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new long[prompt.TextTokens.Length + text.TokenIds.Length];
        prompt.TextTokens.CopyTo(tokens, 0);
        for (int i = 0; i < text.TokenIds.Length; i++) tokens[prompt.TextTokens.Length + i] = text.TokenIds[i];
        return new GenerationRequest
        {
            TextTokens = tokens,
            PromptCodes = prompt.Codes,
            EnrollTokens = prompt.TextTokens.Length,
            PromptLanguage = prompt.Language,
            TextLanguages = [.. text.LanguageIds.Select(VallexTextFrontEnd.LanguageOfCode)],
            Sampling = sampling ?? new SamplingOptions(),
            MaxFrames = maxFrames,
        };
    }

    private IEnumerable<SynthesizedPiece> RunVallex(SynthesisRequest request, IInferenceObserver? observer, CancellationToken cancellation)
    {
        // Upstream detects the language once, on the whole text (also for long text).
        string language = request.Language ?? "auto";
        if (language == "auto") language = VallexTextFrontEnd.DetectLanguage(request.Text.Replace("\n", "", StringComparison.Ordinal).Trim(' '));
        VallexPrompt original = ResolveVallexPrompt(request, language);
        // Upstream: no prompt means sliding-window for long text.
        bool sliding = request.SplitSentences && (request.PromptMode == PromptMode.Sliding || original.Codes.Frames == 0);
        var pieces = PrepareVallex(request, language, original, sliding, cancellation);

        VallexPrompt prompt = original;
        for (int i = 0; i < pieces.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            var (text, tokens, textMs) = pieces[i];
            var clock = Stopwatch.StartNew();
            var generation = VallexRequest(prompt, tokens, request.Sampling, request.MaxFrames);
            GenerationResult result = Generate(generation, request.BestOf, observer, cancellation);
            var piece = Decode(i, pieces.Count, text, result, textMs, cancellation);
            // Sliding window: this sentence's tokens and codes prompt the next one; the prompt language stays the
            // original prompt's (upstream keeps lang_pr).
            if (sliding && result.Frames > 0)
                prompt = new VallexPrompt
                {
                    Codes = result.Codes,
                    TextTokens = [.. tokens.TokenIds.Select(t => (long)t)],
                    Language = original.Language,
                    Source = $"sentence {i + 1}",
                };
            yield return piece;
        }
    }

    private List<(string Text, VallexTokens Tokens, double TextMs)> PrepareVallex(SynthesisRequest request, string language,
        VallexPrompt prompt, bool sliding, CancellationToken cancellation)
    {
        IReadOnlyList<string> texts = request.SplitSentences ? SentenceSplitter.Split(request.Text) : [request.Text];
        texts = [.. texts.Where(t => t.Replace("\n", "", StringComparison.Ordinal).Trim(' ').Length > 0)];
        if (texts.Count == 0) throw new InvalidInputException("the text to synthesise is empty");
        var pieces = new List<(string, VallexTokens, double)>(texts.Count);
        int previous = 0;
        for (int i = 0; i < texts.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            string where = texts.Count > 1 ? $"sentence {i + 1} of {texts.Count}: " : "";
            VallexTokens tokens;
            try { tokens = VallexTextFrontEnd.Tokenize(texts[i], language); }
            catch (InvalidInputException e) when (where.Length > 0) { throw new InvalidInputException(where + e.Message, e) { Setting = e.Setting }; }
            int promptTokens = Math.Max(prompt.TextTokens.Length, sliding ? previous : 0);
            int total = promptTokens + tokens.TokenIds.Length;
            if (total > GenerationRequest.MaxTextTokens)
                throw new InvalidInputException($"{where}prompt transcript + text make {total} tokens; one utterance takes at most " +
                    $"{GenerationRequest.MaxTextTokens}" + (request.SplitSentences ? ": split this sentence" : ": split the text into sentences (or shorten it)"))
                {
                    Setting = request.SplitSentences ? null : nameof(SynthesisRequest.SplitSentences),
                };
            previous = tokens.TokenIds.Length;
            pieces.Add((texts[i], tokens, clock.Elapsed.TotalMilliseconds));
        }
        return pieces;
    }

    /// <summary>
    /// Encodes a prompt recording (any WAV) to codes <c>[T, 8]</c>; a recording longer than
    /// <paramref name="maxSeconds"/> is refused from its header, before it is read.
    /// </summary>
    public static AudioCodes EncodePrompt(EncodecEncoder encoder, string wavPath,
        double maxSeconds = Audio.PromptAudio.DefaultMaxPromptSeconds, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        float[] audio = Audio.PromptAudio.LoadMono(wavPath, EncodecContract.SampleRate, out _, maxSeconds);
        return encoder.Encode(audio, cancellation);
    }
}
