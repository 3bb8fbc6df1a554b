using System.Diagnostics;
using VallE.Runtime.Cpu;
using VallE.Weights;

namespace VallE.Runtime.Models;

/// <summary>
/// A loaded VALL-E (lifeiteng) or VALL-E X (Plachtaa) model on the CPU:
/// <code>
/// using var checkpoint = ModelCheckpoint.Open(path, ConfigOverrides.None);
/// using var model = ValleModel.Load(checkpoint, new EngineOptions { Threads = 4 });
/// GenerationResult r = model.Generate(new GenerationRequest { TextTokens = x, PromptCodes = y, EnrollTokens = n });
/// </code>
/// Weights are copied and packed at load time, so the checkpoint may be disposed afterwards. A model is not
/// thread-safe: run one call at a time (batch utterances with <see cref="GenerateBatch"/> instead). Each model owns
/// a <see cref="CpuBackend"/> (worker threads, kernel ISA, attention settings) made from its
/// <see cref="EngineOptions"/>, so several models, with different settings or not, can run concurrently in one
/// process; <see cref="Dispose"/> retires its worker threads.
/// </summary>
public sealed class ValleModel : IDisposable
{
    private readonly ValleWeights _weights;
    private readonly ArDecoder _ar;
    private readonly NarDecoder _nar;
    private bool _disposed;

    public ModelConfig Config => _weights.Config;
    internal ValleWeights Weights => _weights;
    public EngineOptions Options { get; }
    /// <summary>This model's CPU backend (owned: disposed with the model).</summary>
    internal CpuBackend Backend { get; }

    private ValleModel(ValleWeights weights, EngineOptions options, CpuBackend backend)
    {
        _weights = weights;
        Options = options;
        Backend = backend;
        _ar = new ArDecoder(weights, backend);
        _nar = new NarDecoder(weights, backend);
    }

    public static ValleModel Load(ModelCheckpoint checkpoint, EngineOptions? options = null)
    {
        options ??= new EngineOptions();
        var backend = options.CreateBackend();
        try
        {
            // The backend also runs load-time products (AdaLN's per-stage projections), with the model's ISA.
            return new ValleModel(ValleWeights.Load(checkpoint, options.WeightsDType, backend), options, backend);
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    /// <summary>Retires the model's worker threads; later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        _disposed = true;
        Backend.Dispose();
    }

    /// <summary>Upstream's <c>inference</c> for one utterance: AR then NAR; returns the generated frames only.</summary>
    /// <param name="cancellation">checked before every decoder layer (AR steps, prefill, NAR stages).</param>
    public GenerationResult Generate(GenerationRequest request, IInferenceObserver? observer = null, CancellationToken cancellation = default) =>
        GenerateBatch([request], observer, cancellation)[0];

    /// <summary>
    /// Several independent utterances at once: their AR steps share each layer's weight reads, and sequences that
    /// stop early drop out of the batch. Results equal one-at-a-time calls (each has its own sampler and RNG).
    /// Timings are those of the whole batch.
    /// </summary>
    public IReadOnlyList<GenerationResult> GenerateBatch(IReadOnlyList<GenerationRequest> requests, IInferenceObserver? observer = null,
        CancellationToken cancellation = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (requests.Count == 0) return [];
        var c = Config;
        var arInputs = new ArInput[requests.Count];
        for (int i = 0; i < requests.Count; i++) arInputs[i] = Validate(requests[i], i);

        var clock = Stopwatch.StartNew();
        var (tokens, steps, reasons) = _ar.Run(arInputs, observer, cancellation);
        double arMs = clock.Elapsed.TotalMilliseconds;

        clock.Restart();
        var narInputs = new NarInput[requests.Count];
        for (int i = 0; i < requests.Count; i++)
        {
            var (text, languages) = NarText(requests[i], arInputs[i].Languages);
            narInputs[i] = new NarInput(text, requests[i].PromptCodes, tokens[i].Select(t => (long)t).ToArray(), languages);
        }
        var codes = _nar.Run(narInputs, observer, cancellation);
        double narMs = clock.Elapsed.TotalMilliseconds;

        return Enumerable.Range(0, requests.Count).Select(i => new GenerationResult
        {
            Codes = codes[i],
            ArSteps = steps[i],
            ArMilliseconds = arMs,
            NarMilliseconds = narMs,
            StopReason = reasons[i],
        }).ToArray();
    }

    /// <summary>
    /// lifeiteng's <c>continual</c>: no AR; the first <c>min(T/2, 225)</c> frames of <paramref name="codes"/> are the
    /// prompt, codebook 0 of the rest is kept and the NAR fills in codebooks 1..7 of those frames.
    /// </summary>
    public GenerationResult Continual(long[] textTokens, long[,] codes, IInferenceObserver? observer = null, CancellationToken cancellation = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var c = Config;
        ValidateText(textTokens, 0);
        ValidateCodes(codes, 0, "codes");
        int T = codes.GetLength(0);
        int prefix = Math.Min(T / 2, 3 * Codec.EncodecContract.FramesPerSecond);   // upstream: at most a 3 s prompt
        var prompt = new long[prefix, c.NumQuantizers];
        for (int t = 0; t < prefix; t++)
            for (int j = 0; j < c.NumQuantizers; j++) prompt[t, j] = codes[t, j];
        var first = new long[T - prefix];
        for (int t = prefix; t < T; t++) first[t - prefix] = codes[t, 0];

        var clock = Stopwatch.StartNew();
        // Upstream's continual adds no language embeddings and keeps the whole text (even in prefix modes 2/4).
        var input = new NarInput(textTokens, prompt, first, Languages: null, PositionBeforePrenet: c.PrefixMode == 0);
        var result = _nar.Run([input], observer, cancellation)[0];
        return new GenerationResult { Codes = result, NarMilliseconds = clock.Elapsed.TotalMilliseconds };
    }

    /// <summary>
    /// The NAR's text and languages. Prefix modes 2 and 4 drop the enrolled phonemes: &lt;bos&gt; + text[enroll-1:];
    /// VALL-E X then still splits the languages at <c>enroll</c>, now on the shortened text, as upstream does.
    /// </summary>
    private (long[] Text, int[]? Languages) NarText(GenerationRequest r, int[]? arLanguages)
    {
        if (Config.PrefixMode is not (2 or 4)) return (r.TextTokens, arLanguages);
        int enroll = r.EnrollTokens!.Value;
        long[] text = [r.TextTokens[0], .. r.TextTokens.AsSpan(enroll - 1)];
        return (text, arLanguages is null ? null : LanguageIds(r, text.Length));
    }

    /// <summary>
    /// VALL-E X language id of each of <paramref name="length"/> text positions: the prompt language on the first
    /// EnrollTokens, then the text language (or the per-token list); null for lifeiteng models.
    /// </summary>
    internal int[]? LanguageIds(GenerationRequest r, int length)
    {
        if (Config.Family != ModelFamily.VallEX) return null;
        int enroll = r.EnrollTokens ?? 0;
        int prompt = TextEncoder.LanguageId(r.PromptLanguage, "prompt");
        var ids = new int[length];
        if (r.TextLanguages is { } list)
        {
            if (list.Count != length - enroll)
                throw new InvalidInputException($"{list.Count} per-token text languages given for {length - enroll} text tokens after the {enroll} enrolled ones");
            for (int i = 0; i < length; i++) ids[i] = i < enroll ? prompt : TextEncoder.LanguageId(list[i - enroll], "text");
            return ids;
        }
        int text = TextEncoder.LanguageId(r.TextLanguage, "text");
        for (int i = 0; i < length; i++) ids[i] = i < Math.Min(enroll, length) ? prompt : text;
        return ids;
    }

    private ArInput Validate(GenerationRequest r, int index)
    {
        var c = Config;
        ValidateText(r.TextTokens, index);
        // VALL-E X synthesises without a voice prompt from [1, 0, 8] codes (and enroll 0).
        ValidateCodes(r.PromptCodes, index, "prompt codes", allowEmpty: true);
        string where = index > 0 ? $"request {index}: " : "";
        int S = r.TextTokens.Length;
        bool vallex = c.Family == ModelFamily.VallEX;
        bool needsEnroll = vallex || c.PrefixMode is 2 or 4;
        if (needsEnroll && r.EnrollTokens is null)
            throw new InvalidInputException($"{where}this model needs the number of enrolled (prompt transcript) text tokens")
            {
                Setting = nameof(GenerationRequest.EnrollTokens),
            };
        // VALL-E X without a voice prompt uses enroll 0; prefix modes 2/4 keep text[enroll - 1:], so need enroll >= 1.
        int minEnroll = c.PrefixMode is 2 or 4 ? 1 : 0;
        if (r.EnrollTokens is { } e && (e < minEnroll || e > S))
            throw new InvalidInputException($"{where}enroll tokens {e} outside {minEnroll}..{S} (the text has {S} tokens)");
        if (r.TextLanguages is not null && c.PrefixMode is 2 or 4)
            throw new InvalidInputException($"{where}per-token text languages cannot be used with prefix mode {c.PrefixMode}");
        int[]? languages = LanguageIds(r, S);
        if (r.MaxFrames is < 0) throw new InvalidInputException($"{where}max frames {r.MaxFrames} is negative");
        var first = new long[r.PromptCodes.GetLength(0)];
        for (int t = 0; t < first.Length; t++) first[t] = r.PromptCodes[t, 0];
        return new ArInput(r.TextTokens, first, languages, r.Sampling, r.MaxFrames ?? int.MaxValue);
    }

    private void ValidateText(long[] text, int index)
    {
        string where = index > 0 ? $"request {index}: " : "";
        if (text.Length == 0) throw new InvalidInputException($"{where}text tokens are empty");
        if (text.Length > GenerationRequest.MaxTextTokens)
            throw new InvalidInputException($"{where}{text.Length} text tokens; one utterance takes at most {GenerationRequest.MaxTextTokens} (split the text into sentences)");
        int vocab = _weights.ArTextEmbedding.Rows;
        for (int i = 0; i < text.Length; i++)
            if (text[i] < 0 || text[i] >= vocab)
                throw new InvalidInputException($"{where}text token {i} is {text[i]}, outside the model's 0..{vocab - 1}");
    }

    private void ValidateCodes(long[,] codes, int index, string what, bool allowEmpty = false)
    {
        string where = index > 0 ? $"request {index}: " : "";
        var c = Config;
        if (codes.GetLength(1) != c.NumQuantizers)
            throw new InvalidInputException($"{where}{what} have {codes.GetLength(1)} codebooks, the model expects {c.NumQuantizers} ([frames, {c.NumQuantizers}])");
        if (codes.GetLength(0) == 0 && !allowEmpty) throw new InvalidInputException($"{where}{what} have no frames");
        for (int t = 0; t < codes.GetLength(0); t++)
            for (int j = 0; j < codes.GetLength(1); j++)
                if (codes[t, j] < 0 || codes[t, j] >= c.AudioVocab)
                    throw new InvalidInputException($"{where}{what}[{t}, {j}] is {codes[t, j]}, outside the codebook 0..{c.AudioVocab - 1}");
    }
}
