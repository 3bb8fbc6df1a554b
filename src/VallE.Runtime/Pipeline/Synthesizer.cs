using System.Diagnostics;
using VallE.Runtime.Codec;
using VallE.Runtime.Models;
using VallE.Runtime.Text;

namespace VallE.Runtime.Pipeline;

/// <summary>
/// Text + prompt codes -> speech, the way lifeiteng's <c>valle/bin/infer.py</c> does it: phonemize
/// <c>"{prompt_text} {text}"</c> for the model's text tokens and the prompt transcript alone for
/// <c>enroll_x_lens</c>, run the AR + NAR, decode the generated frames with EnCodec. With
/// <see cref="SynthesisRequest.SplitSentences"/> each sentence is a separate utterance with the same prompt, and
/// pieces are yielded as they finish so that callers can write audio early.
/// </summary>
public sealed class Synthesizer
{
    private readonly ICodeGenerator _model;
    private readonly TextFrontEnd _text;
    private readonly EncodecDecoder _decoder;

    public Synthesizer(ValleModel model, TextFrontEnd text, EncodecDecoder decoder)
        : this(new ValleCodeGenerator(model ?? throw new ArgumentNullException(nameof(model))), text, decoder) { }

    /// <summary>Synthesis on any backend (<see cref="ValleCodeGenerator"/>); the caller owns <paramref name="model"/>.</summary>
    public Synthesizer(ICodeGenerator model, TextFrontEnd text, EncodecDecoder decoder)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _text = text ?? throw new ArgumentNullException(nameof(text));
        _decoder = decoder ?? throw new ArgumentNullException(nameof(decoder));
        CheckCanSpeak(model.Config, text.Symbols);
    }

    /// <summary>
    /// Whether text can be spoken with this model and symbol table: a lifeiteng family (VALL-E X needs its own BPE
    /// front end), EnCodec's 8 codebooks, and no more symbols than the model has text-embedding rows (more would hand
    /// it ids it cannot embed: usually the table of another model). Callers run it as soon as the checkpoint's
    /// configuration is known, before the model loads.
    /// </summary>
    /// <param name="symbols">null: check the model alone (before a table is loaded).</param>
    public static void CheckCanSpeak(VallE.Weights.ModelConfig config, SymbolTable? symbols = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Family == VallE.Weights.ModelFamily.VallEX)
            throw new InvalidInputException("text-to-speech here speaks with lifeiteng VALL-E/VALL-F checkpoints; VALL-E X needs its own (BPE) text front end, which this build does not have");
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
            try { tokens = _text.Tokenize(request.PromptText, texts[i]); }
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
        GenerationResult result = _model.Generate(new GenerationRequest
        {
            TextTokens = tokens.Tokens,
            PromptCodes = request.PromptCodes,
            EnrollTokens = tokens.EnrollTokens,
            Sampling = request.Sampling,
            MaxFrames = request.MaxFrames,
        }, observer, cancellation);

        float[] samples = [];
        double codecMs = 0;
        if (result.Frames > 0)
        {
            clock.Restart();
            samples = _decoder.Decode(result.Codes, cancellation);
            codecMs = clock.Elapsed.TotalMilliseconds;
        }
        return new SynthesizedPiece(index, count, text, samples, result.Frames, result.ArSteps, result.StopReason,
            new StageTimes(textMs, result.ArMilliseconds, result.NarMilliseconds, codecMs));
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
