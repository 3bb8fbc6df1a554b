using System.Diagnostics;
using System.Globalization;
using VallE.Runtime.Codec;
using VallE.Runtime.Models;
using VallE.Runtime.Text;
using VallE.Runtime.Text.Ecker;
using VallE.Weights;

namespace VallE.Runtime.Pipeline;

/// <summary>
/// e-c-k-e-r/vall-e synthesis: the text through <see cref="EckerTextFrontEnd"/> (espeak-ng + upstream's
/// <c>tokenizer.json</c>) in <see cref="SynthesisRequest.Language"/>, the voice's codes as the prompt (no transcript:
/// upstream's sequence is <c>phn ⟨sep⟩ lang ⟨sep⟩ rvq ⟨sep⟩ prompt ⟨sep⟩ resp</c>), the mode and NAR-len settings of
/// <see cref="SynthesisRequest.Ecker"/>; with <see cref="SynthesisRequest.SplitSentences"/> every sentence is an
/// utterance of its own with the same prompt.
/// </summary>
public sealed partial class Synthesizer
{
    /// <summary>e-c-k-e-r/vall-e synthesis with its front end; the caller owns <paramref name="model"/> (an <see cref="EckerCodeGenerator"/>).</summary>
    public Synthesizer(ICodeGenerator model, EckerTextFrontEnd text, EncodecDecoder decoder)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _ecker = text ?? throw new ArgumentNullException(nameof(text));
        _decoder = decoder ?? throw new ArgumentNullException(nameof(decoder));
        if (model.Config.Family != ModelFamily.Ecker)
            throw new InvalidInputException("EckerTextFrontEnd speaks for e-c-k-e-r/vall-e checkpoints; this one is " + model.Config.Family);
        CheckCanSpeak(model.Config, text.Tokenizer);
    }

    /// <summary>
    /// Whether an e-c-k-e-r/vall-e model can take the ids of <paramref name="tokenizer"/>: every id must have a row in
    /// the model's phoneme embedding (a larger id means the tokenizer of another model), and EnCodec's 8 levels.
    /// </summary>
    public static void CheckCanSpeak(ModelConfig config, EckerBpeTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tokenizer);
        CheckCanSpeak(config);
        var ecker = config.Ecker ?? throw new InvalidInputException("not an e-c-k-e-r/vall-e checkpoint: it has no ecker text front end");
        int largest = tokenizer.Vocabulary.Values.Concat(tokenizer.Prefix).Concat(tokenizer.Suffix).DefaultIfEmpty(0).Max();
        if (largest >= ecker.PhonemeTokens)
            throw new InvalidInputException($"the tokenizer has ids up to {largest} but the model has {ecker.PhonemeTokens} phoneme tokens: " +
                "is it the tokenizer.json this checkpoint was trained with?");
    }

    /// <summary>
    /// The model request for one tokenized text: its phoneme ids and language, the request's prompt codes, AR
    /// sampler, frame cap and ecker settings. <c>valle generate</c> with the same ids and codes runs the same request.
    /// </summary>
    public static GenerationRequest EckerRequest(EckerTokens tokens, SynthesisRequest request)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(request);
        return new GenerationRequest
        {
            TextTokens = [.. tokens.TokenIds.Select(i => (long)i)],
            PromptCodes = request.PromptCodes,
            TextLanguage = tokens.LanguageId.ToString(CultureInfo.InvariantCulture),
            Sampling = request.Sampling,
            MaxFrames = request.MaxFrames,
            Ecker = request.Ecker,
        };
    }

    private IEnumerable<SynthesizedPiece> RunEcker(SynthesisRequest request, IInferenceObserver? observer, CancellationToken cancellation)
    {
        var pieces = PrepareEcker(request, cancellation);
        for (int i = 0; i < pieces.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            var (text, tokens, textMs) = pieces[i];
            GenerationResult result = Generate(EckerRequest(tokens, request), request.BestOf, observer, cancellation);
            yield return Decode(i, pieces.Count, text, result, textMs, cancellation);
        }
    }

    /// <summary>
    /// Checks the prompt and the language, then splits and tokenizes the whole text before anything is synthesised,
    /// so that a sentence with nothing to say or an id the model lacks fails at once.
    /// </summary>
    private List<(string Text, EckerTokens Tokens, double TextMs)> PrepareEcker(SynthesisRequest request, CancellationToken cancellation)
    {
        var config = _model.Config.Ecker!;
        if (request.BestOf != 1)
            throw new InvalidInputException($"best-of {request.BestOf}: best-of is VALL-E X's; an e-c-k-e-r/vall-e model generates one candidate") { Setting = nameof(SynthesisRequest.BestOf) };
        if (request.PromptCodes.Frames == 0)
            throw new InvalidInputException("an e-c-k-e-r/vall-e voice needs a prompt recording (or its codes): the model has no synthesis without one");
        string language = request.Language ?? "en";
        int id = EckerTextFrontEnd.LanguageId(language);
        if (id < 0)
            throw new InvalidInputException($"language '{language}' is not one of e-c-k-e-r/vall-e's: {string.Join(", ", EckerTextFrontEnd.Languages)}") { Setting = nameof(SynthesisRequest.Language) };
        if (id >= Math.Max(1, config.Langs))
            throw new InvalidInputException($"language '{language}' (id {id}): this model has {Math.Max(1, config.Langs)} languages " +
                $"({string.Join(", ", EckerTextFrontEnd.Languages.Take(Math.Max(1, config.Langs)))})") { Setting = nameof(SynthesisRequest.Language) };

        IReadOnlyList<string> texts = request.SplitSentences ? SentenceSplitter.Split(request.Text) : [request.Text];
        texts = [.. texts.Where(t => !string.IsNullOrWhiteSpace(t))];
        if (texts.Count == 0) throw new InvalidInputException("the text to synthesise is empty");
        var pieces = new List<(string, EckerTokens, double)>(texts.Count);
        for (int i = 0; i < texts.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            string where = texts.Count > 1 ? $"sentence {i + 1} of {texts.Count}: " : "";
            EckerTokens tokens;
            try { tokens = _ecker!.Tokenize(texts[i], language); }
            catch (InvalidInputException e) when (where.Length > 0) { throw new InvalidInputException(where + e.Message, e) { Setting = e.Setting }; }
            // <bos> and <eos> alone: espeak found nothing to say.
            if (tokens.TokenIds.Length <= _ecker!.Tokenizer.Prefix.Count + _ecker.Tokenizer.Suffix.Count)
                throw new InvalidInputException($"{where}nothing to pronounce in '{texts[i]}'");
            if (tokens.TokenIds.Length > GenerationRequest.MaxTextTokens)
                throw new InvalidInputException($"{where}the text makes {tokens.TokenIds.Length} phoneme tokens; one utterance takes at most " +
                    $"{GenerationRequest.MaxTextTokens}" + (request.SplitSentences ? ": split this sentence" : ": split the text into sentences (or shorten it)"))
                {
                    Setting = request.SplitSentences ? null : nameof(SynthesisRequest.SplitSentences),
                };
            pieces.Add((texts[i], tokens, clock.Elapsed.TotalMilliseconds));
        }
        return pieces;
    }
}
