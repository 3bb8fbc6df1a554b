using System.Runtime.InteropServices;
using VallE.Runtime.Backends;
using VallE.Runtime.Codec;
using VallE.Runtime.Cpu;
using VallE.Runtime.Sampling;
using VallE.Weights;

namespace VallE.Runtime.Models.Ecker;

/// <summary>Which kind of pass an <see cref="IEckerObserver"/> hears about.</summary>
public enum EckerPass
{
    /// <summary>An AR step (level 0): step 0 is the prefill, then one row per step over the KV cache.</summary>
    Ar,
    /// <summary>A NAR pass for one level 1..levels-1.</summary>
    Nar,
    /// <summary>A step of the len task (one digit per step).</summary>
    Len,
    /// <summary>NAR-len demasking step: the conditional pass.</summary>
    DemaskCond,
    /// <summary>NAR-len demasking step: the null pass (phonemes [1, 2], no prompt).</summary>
    DemaskNull,
    /// <summary>NAR-len demasking step: the guided logits (CFG + rescale) the step decided from.</summary>
    DemaskCfg,
}

/// <summary>Sees what an <see cref="EckerModel"/> computes (tests, tools): inputs of the first pass of each kind and every logit row used.</summary>
public interface IEckerObserver
{
    /// <summary>The input embeddings <c>[rows, dim]</c> and position ids of a full pass (AR prefill, NAR level <paramref name="index"/>).</summary>
    void Inputs(EckerPass pass, int index, ReadOnlySpan<float> embeddings, ReadOnlySpan<int> positions);
    /// <summary>The logits a step or level decided from: AR step <paramref name="index"/> one row; NAR level <paramref name="index"/> one row per frame.</summary>
    void Logits(EckerPass pass, int index, ReadOnlySpan<float> logits, int rows, int vocab);
    /// <summary>NAR-len: the level-0 tokens a demasking step starts from (mask = 1024), after re-masking.</summary>
    void Tokens(EckerPass pass, int index, ReadOnlySpan<int> tokens) { }
}

/// <summary>NAR-len settings (upstream's <c>forward_nar_masked</c>).</summary>
public sealed record EckerDemaskOptions
{
    /// <summary>Frames to generate; null: predict with the len task, then <c>int(max(len, 75) · 1.05)</c> as upstream's TTS.</summary>
    public int? Length { get; init; }
    /// <summary>Demasking steps (upstream's <c>max_steps</c>, default 25).</summary>
    public int Steps { get; init; } = 25;
    /// <summary>Classifier-free guidance strength; upstream raises anything below 2.5 to 2.5.</summary>
    public float CfgStrength { get; init; } = 2.5f;
    /// <summary>Rescale factor (upstream's <c>cfg_rescale</c>, default 0.75).</summary>
    public float CfgRescale { get; init; } = 0.75f;
}

/// <summary>A TTS request for an ecker model (AR + NAR).</summary>
public sealed record EckerRequest
{
    /// <summary>Phoneme ids as upstream's tokenizer gives them, <c>&lt;s&gt;</c> (1) and <c>&lt;/s&gt;</c> (2) included.</summary>
    public required long[] PhonemeTokens { get; init; }
    /// <summary>EnCodec codes of the voice prompt <c>[frames, levels]</c>.</summary>
    public required AudioCodes PromptCodes { get; init; }
    /// <summary>Language id (upstream: en 0, ja 1, de 2, fr 3, zh 4, ko 5).</summary>
    public int Language { get; init; }
    /// <summary>AR steps at most (upstream's <c>max_duration</c>; 75 steps a second): the frames generated are fewer when the stop token comes first.</summary>
    public int MaxDuration { get; init; } = 12 * 75;
    /// <summary>NAR levels to fill after the AR (upstream's <c>max_levels</c>, CLI default 7); levels above stay 0.</summary>
    public int MaxLevels { get; init; } = 7;
    /// <summary>
    /// How every stage picks its tokens (<see cref="EckerSampler"/>, upstream's <c>Base.sample</c>): the AR with
    /// <see cref="EckerSamplingOptions.ArTemperature"/> (draws at step = AR step, stream 0), the NAR levels with
    /// <see cref="EckerSamplingOptions.NarTemperature"/> (step = frame, stream = level), NAR-len demasking with the AR
    /// temperature annealed by <c>1 − t</c> (step = frame, stream <see cref="EckerSampler.DemaskStream"/>). Null: greedy
    /// everywhere (argmax of the raw logits), as upstream with both temperatures 0 and default filters.
    /// </summary>
    public EckerSamplingOptions? Sampling { get; init; }
}

/// <summary>
/// An e-c-k-e-r/vall-e model (<c>ar+nar-llama-8</c> family), written once over <see cref="IComputeBackend"/>
/// operations (<see cref="EckerTransformer"/>): the AR for level 0 with a KV cache (one prefill over
/// <c>phn ⟨sep⟩ lang ⟨sep⟩ rvq 0 ⟨sep⟩ prompt ⟨sep⟩</c>, then one row per step; only the response positions advance),
/// then one NAR pass per level. Greedy (argmax) unless the request carries <see cref="EckerSamplingOptions"/>; see
/// docs/ecker.md for what is not implemented yet.
/// <code>
/// using var checkpoint = ModelCheckpoint.Open("ar+nar-llama-8.sft");
/// using var model = EckerModel.Load(checkpoint);
/// AudioCodes codes = model.Generate(new EckerRequest { PhonemeTokens = phn, PromptCodes = prompt, Language = 0 });
/// </code>
/// </summary>
public sealed class EckerModel : IDisposable
{
    private readonly EckerWeights _w;
    private readonly IComputeBackend _b;
    private readonly IComputeBackend? _ownedBackend;

    private EckerModel(EckerWeights w, IComputeBackend b, IComputeBackend? owned)
    {
        _w = w;
        _b = b;
        _ownedBackend = owned;
    }

    public EckerConfig Config => _w.Config;

    /// <summary>
    /// Tests: false runs every causal demasking step as a full pass (the prefix recomputed), the oracle the reused
    /// prefix keys/values are checked against.
    /// </summary>
    internal bool DemaskPrefixCache { get; set; } = true;

    /// <summary>Loads onto a CPU backend of its own with <paramref name="threads"/> workers (0: one per core).</summary>
    public static EckerModel Load(ModelCheckpoint checkpoint, int threads = 0, WeightsDType dtype = WeightsDType.F32)
    {
        var backend = new CpuComputeBackend(new CpuBackend(threads), ownsPool: true);
        try
        {
            return Load(checkpoint, backend, dtype, ownsBackend: true);
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads onto <paramref name="backend"/> after checking it runs every operation the model needs (an
    /// <see cref="InvalidInputException"/> names the first it lacks, e.g. CUDA's bf16 linear layers).
    /// </summary>
    public static EckerModel Load(ModelCheckpoint checkpoint, IComputeBackend backend, WeightsDType dtype = WeightsDType.F32, bool ownsBackend = false)
    {
        var c = checkpoint.Config.Ecker ?? throw new InvalidInputException(
            $"not an e-c-k-e-r/vall-e checkpoint (family {ConfigResolver.FamilyName(checkpoint.Config.Family)}): load it with ValleModel");
        if (Missing(c, dtype, backend) is { } reason) throw new InvalidInputException(reason);
        return new EckerModel(EckerWeights.Load(checkpoint, backend, dtype), backend, ownsBackend ? backend : null);
    }

    /// <summary>Why <paramref name="backend"/> cannot run the model (the first operation it lacks), or null when it can.</summary>
    public static string? Missing(EckerConfig c, WeightsDType dtype, IComputeBackend backend)
    {
        foreach (var op in Requirements(c, dtype))
            if (!backend.Supports(op, out string why))
                return $"the {backend.Name} backend cannot run this ecker model: {op}: {why}";
        return null;
    }

    /// <summary>The operations an ecker model needs of a backend.</summary>
    public static IEnumerable<OpRequirement> Requirements(EckerConfig c, WeightsDType dtype)
    {
        yield return new OpRequirement(OpKind.GatherSum);
        yield return new OpRequirement(OpKind.Linear, dtype);
        yield return new OpRequirement(OpKind.Linear, WeightsDType.F32);
        yield return new OpRequirement(OpKind.Add);
        yield return new OpRequirement(OpKind.RmsNorm);
        yield return new OpRequirement(OpKind.Rope);
        yield return new OpRequirement(OpKind.GatedGelu);
        yield return new OpRequirement(OpKind.Attention, HeadDim: c.HeadDim);
        yield return new OpRequirement(OpKind.AttentionDecode, HeadDim: c.HeadDim);
    }

    /// <summary>AR (level 0, KV-cached) then NAR levels 1..<see cref="EckerRequest.MaxLevels"/>; greedy unless the request has sampling options.</summary>
    public AudioCodes Generate(EckerRequest request, IEckerObserver? observer = null, CancellationToken cancellation = default)
    {
        int[] level0 = GenerateAr(request, observer, cancellation);
        return GenerateNar(request, level0, observer, cancellation);
    }

    // ---- requests ------------------------------------------------------------------------------------------

    private int[] Phonemes(EckerRequest r)
    {
        ArgumentNullException.ThrowIfNull(r.PhonemeTokens);
        ArgumentNullException.ThrowIfNull(r.PromptCodes);
        var c = Config;
        if (r.PhonemeTokens.Length == 0) throw new InvalidInputException("no phoneme tokens");
        var ids = new int[r.PhonemeTokens.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            long t = r.PhonemeTokens[i];
            if (t < 0 || t >= c.PhonemeTokens) throw new InvalidInputException($"phoneme token {t} at {i} is outside 0..{c.PhonemeTokens - 1}");
            ids[i] = (int)t;
        }
        if (r.Language < 0 || r.Language >= Math.Max(1, c.Langs))
            throw new InvalidInputException($"language id {r.Language} is outside 0..{Math.Max(1, c.Langs) - 1}") { Setting = nameof(r.Language) };
        if (r.PromptCodes.Codebooks < c.Levels)
            throw new InvalidInputException($"the prompt has {r.PromptCodes.Codebooks} code levels, the model reads {c.Levels}");
        if (r.PromptCodes.Frames == 0) throw new InvalidInputException("the prompt has no frames");
        foreach (long v in r.PromptCodes.Span)
            if (v < 0 || v >= c.AudioTokens) throw new InvalidInputException($"prompt code {v} is outside 0..{c.AudioTokens - 1}");
        if (r.MaxDuration < 1) throw new ArgumentOutOfRangeException(nameof(r.MaxDuration), r.MaxDuration, "MaxDuration must be at least 1");
        if (r.MaxLevels < 0) throw new ArgumentOutOfRangeException(nameof(r.MaxLevels), r.MaxLevels, "MaxLevels must not be negative");
        return ids;
    }

    /// <summary>
    /// The segments before the output for target level <paramref name="level"/>: phonemes, language, the level,
    /// and the prompt (its first <c>max(level, 1)</c> levels summed: the AR reads level 0 only), each followed by sep.
    /// </summary>
    private EckerSequence Prefix(int[] phonemes, EckerRequest r, int level, bool prompt = true)
    {
        var w = _w;
        var s = new EckerSequence(Config.Levels, Config.UnifiedPositionIds);
        s.Segment([w.Text], phonemes, phonemes.Length, w.Sep);
        if (w.Langs is not null) s.Segment([w.Langs], [r.Language], 1, w.Sep);
        s.Segment([w.Rvq], [level], 1, w.Sep);
        if (!prompt) return s;
        int k = Math.Max(level, 1), frames = r.PromptCodes.Frames;
        var ids = new int[frames * k];
        for (int t = 0; t < frames; t++)
            for (int l = 0; l < k; l++) ids[t * k + l] = (int)r.PromptCodes[t, l];
        s.Segment(w.Proms[..k], ids, frames, w.Sep);
        return s;
    }

    // ---- AR ------------------------------------------------------------------------------------------------

    /// <summary>
    /// Level 0: up to <see cref="EckerRequest.MaxDuration"/> steps, each appending the argmax (or, with
    /// <see cref="EckerRequest.Sampling"/>, <see cref="EckerSampler.SampleAr"/> over the tokens so far) of the <c>AR:0:0</c> head, ending after the stop token (1024, not kept). One prefill, then one row per step over the
    /// KV cache; upstream re-runs the whole sequence each step, which gives the same causal result.
    /// </summary>
    public int[] GenerateAr(EckerRequest request, IEckerObserver? observer = null, CancellationToken cancellation = default)
    {
        var c = Config;
        var b = _b;
        int[] phonemes = Phonemes(request);
        var seq = Prefix(phonemes, request, level: 0).Segment([_w.Resps[0]], [], 0, null);
        int n = seq.Rows, steps = request.MaxDuration, d = c.Dim;
        int head = c.Classifier("AR:0:0");
        int vocab = c.AudioTokens + 1;
        using var cache = b.CreateKvCache("ecker ar", 1, c.Layers, n + steps, d, keepsHistory: true);
        using var scratch = new EckerScratch(b, n, d, c.FeedForward);
        using var x = b.Allocate(TensorType.F32, n, d);
        using var positions = b.Allocate(TensorType.I32, n, 1);
        using var ids = b.Allocate(TensorType.I32, n, seq.Columns);
        using var logits = b.Allocate(TensorType.F32, 1, vocab);
        using var lengths = b.Allocate(TensorType.I32, 1, 1);
        var host = new float[vocab];

        seq.Embed(b, x.All, positions.All, ids);
        Observe(observer, EckerPass.Ar, 0, x.All, positions.All, n);
        EckerTransformer.Forward(b, _w, cache, x.All, positions.All, [new AttentionSegment(0, 0, 0, n, 0, Causal: true)], scratch, cancellation);
        b.Linear(_w.Classifiers[head], x.Slice(n - 1, 1), logits.All);

        var tokens = new List<int>();
        var sampler = request.Sampling is { } options ? new EckerSampler(options, vocab) : null;
        for (int step = 0; ; step++)
        {
            b.Read(logits.All, host);
            observer?.Logits(EckerPass.Ar, step, host, 1, vocab);
            int token = sampler is null ? TokenSampler.ArgMax(host) : sampler.SampleAr(host, CollectionsMarshal.AsSpan(tokens), c.StopToken, (ulong)step);
            if (token == c.StopToken) break;
            tokens.Add(token);
            if (step + 1 >= steps) break;
            // The new token, at its response position (the prefix positions stay where the prefill put them).
            var row = x.Slice(0, 1);
            b.Write(ids.Slice(0, 1), [token, .. new int[seq.Columns - 1]]);
            b.GatherSum([_w.Resps[0]], ids.Slice(0, 1), row);
            b.Write(positions.Slice(0, 1), [c.UnifiedPositionIds ? n + step : step]);
            b.Write(lengths.All, [n + step + 1]);
            EckerTransformer.Decode(b, _w, cache, row, positions.Slice(0, 1), [0], lengths.All, scratch, cancellation);
            b.Linear(_w.Classifiers[head], row, logits.All);
        }
        return [.. tokens];
    }

    // ---- NAR -----------------------------------------------------------------------------------------------

    /// <summary>
    /// Levels 1..<see cref="EckerRequest.MaxLevels"/> (at most levels - 1), one full pass each: the output segment sums
    /// <c>resps_emb[l + 1](code[:, l])</c> over the levels known so far, the prompt its first <c>level</c> levels; the
    /// <c>NAR:{level-1}:{level}</c> head's argmax over the last T rows (or, with <see cref="EckerRequest.Sampling"/>,
    /// <see cref="EckerSampler.SampleNar"/> with the level below as the penalty's history) is the new level. Masks: causal
    /// unless the file says <c>noncausal_masks</c>.
    /// </summary>
    public AudioCodes GenerateNar(EckerRequest request, int[] level0, IEckerObserver? observer = null, CancellationToken cancellation = default)
    {
        var c = Config;
        var b = _b;
        int[] phonemes = Phonemes(request);
        int frames = level0.Length, levels = c.Levels;
        var codes = new long[frames * levels];
        for (int t = 0; t < frames; t++)
        {
            if (level0[t] < 0 || level0[t] >= c.AudioTokens) throw new InvalidInputException($"level-0 code {level0[t]} at {t} is outside 0..{c.AudioTokens - 1}");
            codes[t * levels] = level0[t];
        }
        if (frames == 0) return new AudioCodes(codes, 0, levels);
        int last = Math.Min(request.MaxLevels, levels - 1);
        var sampler = request.Sampling is { } options ? new EckerSampler(options, c.AudioTokens) : null;
        var previous = new int[frames];
        var picked = new int[frames];
        for (int level = 1; level <= last; level++)
        {
            var ids = new int[frames * level];
            for (int t = 0; t < frames; t++)
                for (int l = 0; l < level; l++) ids[t * level + l] = (int)codes[t * levels + l];
            var seq = Prefix(phonemes, request, level).Segment(_w.Resps[1..(level + 1)], ids, frames, null);
            int n = seq.Rows, d = c.Dim, vocab = c.AudioTokens;
            using var cache = b.CreateKvCache("ecker nar", 1, c.Layers, n, d, keepsHistory: false);
            using var scratch = new EckerScratch(b, n, d, c.FeedForward);
            using var x = b.Allocate(TensorType.F32, n, d);
            using var positions = b.Allocate(TensorType.I32, n, 1);
            using var idTensor = b.Allocate(TensorType.I32, n, seq.Columns);
            using var logits = b.Allocate(TensorType.F32, frames, vocab);
            seq.Embed(b, x.All, positions.All, idTensor);
            Observe(observer, EckerPass.Nar, level, x.All, positions.All, n);
            EckerTransformer.Forward(b, _w, cache, x.All, positions.All, [new AttentionSegment(0, 0, 0, n, 0, Causal: !c.NoncausalMasks)],
                scratch, cancellation);
            b.Linear(_w.Classifiers[c.Classifier($"NAR:{level - 1}:{level}")], x.Slice(n - frames, frames), logits.All);
            var host = new float[frames * vocab];
            b.Read(logits.All, host);
            observer?.Logits(EckerPass.Nar, level, host, frames, vocab);
            if (sampler is null)
            {
                for (int t = 0; t < frames; t++) codes[t * levels + level] = TokenSampler.ArgMax(host.AsSpan(t * vocab, vocab));
                continue;
            }
            // Upstream's NAR history is the level below (prev_list[:, -1]).
            for (int t = 0; t < frames; t++) previous[t] = (int)codes[t * levels + level - 1];
            sampler.SampleNar(host, previous, level, picked);
            for (int t = 0; t < frames; t++) codes[t * levels + level] = picked[t];
        }
        return new AudioCodes(codes, frames, levels);
    }

    // ---- NAR-len -------------------------------------------------------------------------------------------

    /// <summary>
    /// The len task: <c>phn ⟨sep⟩ lang ⟨sep⟩ rvq 0 ⟨sep⟩ prompt ⟨sep⟩ len</c>, the len tokens starting as [0]; each
    /// (causal) step appends the argmax of the <c>len</c> head until the stop digit 10, at most 10 steps; the result is
    /// the digits read as one number (the leading 0 included, as upstream).
    /// </summary>
    public long PredictLength(EckerRequest request, IEckerObserver? observer = null, CancellationToken cancellation = default)
    {
        var c = Config;
        var b = _b;
        int classifier = c.Classifier("len");
        if (_w.Len is null || classifier < 0) throw new InvalidInputException("this model has no len task (capability 'len')");
        int[] phonemes = Phonemes(request);
        const int MaxSteps = 10, Stop = 10;
        // The len pass is causal in every mask setting (FACTS.md: len, AR and phn heads are), so a digit never changes
        // the rows before it: one prefill over the prefix and the first digit (0), then one decoded row per new digit
        // over the KV cache, as the AR path does; upstream re-runs the whole sequence per digit.
        var seq = Prefix(phonemes, request, 0).Segment([_w.Len], [0], 1, null);
        int n = seq.Rows, d = c.Dim;
        var head = _w.Classifiers[classifier];
        using var cache = b.CreateKvCache("ecker len", 1, c.Layers, n + MaxSteps, d, keepsHistory: true);
        using var scratch = new EckerScratch(b, n, d, c.FeedForward);
        using var x = b.Allocate(TensorType.F32, n, d);
        using var positions = b.Allocate(TensorType.I32, n, 1);
        using var ids = b.Allocate(TensorType.I32, n, seq.Columns);
        using var logits = b.Allocate(TensorType.F32, 1, head.OutFeatures);
        using var lengths = b.Allocate(TensorType.I32, 1, 1);
        var host = new float[head.OutFeatures];
        var rowIds = new int[seq.Columns];
        seq.Embed(b, x.All, positions.All, ids);
        Observe(observer, EckerPass.Len, 0, x.All, positions.All, n);
        EckerTransformer.Forward(b, _w, cache, x.All, positions.All, [new AttentionSegment(0, 0, 0, n, 0, Causal: true)], scratch, cancellation);
        b.Linear(head, x.Slice(n - 1, 1), logits.All);
        long value = 0;   // the digits read as one number, the leading 0 included
        for (int step = 0; step < MaxSteps; step++)
        {
            b.Read(logits.All, host);
            observer?.Logits(EckerPass.Len, step, host, 1, EckerConfig.LenClasses);
            int token = Math.Min(TokenSampler.ArgMax(host), Stop);
            if (token == Stop) break;
            value = checked(value * 10 + token);
            if (step + 1 >= MaxSteps) break;
            // Digit step + 1 of the len segment (digit 0 is the prefill's last row): row n + step, at len position
            // step + 1 (segment positions restart at 0), or its row index with unified positions.
            var row = x.Slice(0, 1);
            rowIds[0] = token;
            b.Write(ids.Slice(0, 1), rowIds);
            b.GatherSum([_w.Len], ids.Slice(0, 1), row);
            b.Write(positions.Slice(0, 1), [c.UnifiedPositionIds ? n + step : step + 1]);
            b.Write(lengths.All, [n + step + 1]);
            EckerTransformer.Decode(b, _w, cache, row, positions.Slice(0, 1), [0], lengths.All, scratch, cancellation);
            b.Linear(head, row, logits.All);
        }
        return value;
    }

    /// <summary>
    /// NAR-len: level 0 by demasking (<see cref="Demask"/>), at the given or predicted length, then NAR levels 1..
    /// <see cref="EckerRequest.MaxLevels"/>.
    /// </summary>
    public AudioCodes GenerateNarLen(EckerRequest request, EckerDemaskOptions options, IEckerObserver? observer = null, CancellationToken cancellation = default) =>
        GenerateNar(request, GenerateLevel0NarLen(request, options, observer, cancellation), observer, cancellation);

    /// <summary>
    /// NAR-len's level 0: <see cref="Demask"/> at <see cref="EckerDemaskOptions.Length"/>, or at the len task's
    /// <c>int(max(len, 75) · 1.05)</c>, at most <see cref="EckerRequest.MaxDuration"/> frames.
    /// </summary>
    public int[] GenerateLevel0NarLen(EckerRequest request, EckerDemaskOptions options, IEckerObserver? observer = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        int length = options.Length ?? (int)Math.Min(int.MaxValue / 2, (long)(Math.Max(PredictLength(request, observer, cancellation), 75) * 1.05));
        return Demask(request, Math.Min(length, request.MaxDuration), options, observer, cancellation);
    }

    /// <summary>
    /// Upstream's <c>forward_nar_masked</c>: all <paramref name="length"/> tokens start masked (1024) with
    /// score 1. Step s of S, t = s/(S-1): the k = clamp(int(cos(tπ/2)·T), 1, T−s) lowest scores are masked again; a
    /// conditional pass and a null pass (phonemes [1, 2], no prompt) give logits over the <c>NAR:0:0</c> head;
    /// guided = null + (cond − null)·max(strength, 2.5), rescaled by <c>r·std(cond)/std(guided) + 1 − r</c> (std over
    /// the whole [T, V] slice, Bessel-corrected); masked positions take the argmax; every score becomes the softmax
    /// probability of its argmax. With <see cref="EckerRequest.Sampling"/>, as upstream's annealed sampling: each row
    /// goes through the sampler's filters; the score is the argmax's probability of the filtered row at temperature 0,
    /// and masked positions draw at temperature <c>ArTemperature · (1 − t)</c> (so the last step is greedy). Upstream's
    /// repetition penalty fails here (it indexes the mask token 1024 in the 1024-class head), so it is refused.
    /// </summary>
    public int[] Demask(EckerRequest request, int length, EckerDemaskOptions options, IEckerObserver? observer = null, CancellationToken cancellation = default)
    {
        var c = Config;
        var b = _b;
        if (_w.Resps.Length <= c.Levels || c.Classifier("NAR:0:0") < 0) throw new InvalidInputException("this model has no NAR-len (NAR:0:0) head");
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Steps, 1);
        int[] phonemes = Phonemes(request);
        int T = length, V = c.AudioTokens, steps = options.Steps, head = c.Classifier("NAR:0:0");
        double strength = Math.Max(options.CfgStrength, 2.5), rescale = options.CfgRescale;
        var sampling = request.Sampling;
        if (sampling is { RepetitionPenalty: not 1f })
            throw new InvalidInputException("NAR-len demasking has no repetition penalty: upstream's fails on the mask token (1024) in its 1024-class head")
            {
                Setting = nameof(EckerSamplingOptions.RepetitionPenalty),
            };
        var sampler = sampling is null ? null : new EckerSampler(sampling, V);
        var tokens = new int[T];
        Array.Fill(tokens, c.MaskToken);
        var scores = new float[T];
        Array.Fill(scores, 1.0f);
        var masked = new bool[T];
        var order = new int[T];
        // Stable: equal scores keep the earlier position first (upstream's topk order on ties is unspecified).
        Comparison<int> byScore = (i, j) => scores[i] != scores[j] ? scores[i].CompareTo(scores[j]) : i.CompareTo(j);
        var table = _w.Resps[c.Levels];
        bool causal = !c.NoncausalMasks;

        // The conditional and the null pass of a step run as ONE forward over a batch of two sequences, rows
        // [0, nc) and [nc, nc + nn): every linear layer, norm, RoPE and GELU works row by row, so the two share each
        // weight read, and attention stays per sequence (one segment, one cache slot each). The layout is fixed for
        // the whole call; only the T output tokens change between steps, so the prefix ids go up once and each step
        // rewrites the output ids and re-gathers (the forward overwrites the residual stream in place).
        // Causal masks (upstream's default, noncausal_masks=False): no prefix row sees an output row, so the prefix
        // keys/values of step 0's full pass hold for every step; later steps run only the 2·T output rows over them
        // (cache positions [prefix, prefix + T) rewritten each step). Bidirectional masks: every step is a full pass.
        var condSeq = Prefix(phonemes, request, 0).Segment([table], tokens, T, null);
        var nullSeq = Prefix([1, 2], request, 0, prompt: false).Segment([table], tokens, T, null);
        int nc = condSeq.Rows, nn = nullSeq.Rows, rows = nc + nn, d = c.Dim, columns = condSeq.Columns;
        bool reusePrefix = causal && DemaskPrefixCache;
        var classifier = _w.Classifiers[head];
        using var cache = b.CreateKvCache("ecker demask", 2, c.Layers, Math.Max(nc, nn), d, keepsHistory: reusePrefix);
        using var scratch = new EckerScratch(b, rows, d, c.FeedForward);
        using var x = b.Allocate(TensorType.F32, rows, d);
        using var positions = b.Allocate(TensorType.I32, rows, 1);
        using var ids = b.Allocate(TensorType.I32, rows, columns);
        using var logits = b.Allocate(TensorType.F32, 2 * T, V);
        condSeq.Embed(b, x.Slice(0, nc), positions.Slice(0, nc), ids.Slice(0, nc));
        nullSeq.Embed(b, x.Slice(nc, nn), positions.Slice(nc, nn), ids.Slice(nc, nn));
        ReadOnlySpan<AttentionSegment> segments = [new AttentionSegment(0, 0, 0, nc, 0, causal), new AttentionSegment(1, nc, 0, nn, 0, causal)];
        // Output rows only (causal, after step 0): cond's at rows [0, T), null's at [T, 2T), their positions and
        // ids in tensors of their own (the full pass's stay as step 0 wrote them).
        ReadOnlySpan<AttentionSegment> outputSegments = [new AttentionSegment(0, 0, nc - T, T, 0, true), new AttentionSegment(1, T, nn - T, T, 0, true)];
        using var outputPositions = b.Allocate(TensorType.I32, reusePrefix ? 2 * T : 1, 1);
        using var outputIdTensor = b.Allocate(TensorType.I32, reusePrefix ? 2 * T : 1, columns);
        if (reusePrefix)
        {
            var outputPositionIds = new int[2 * T];
            for (int i = 0; i < T; i++)
            {
                outputPositionIds[i] = condSeq.Positions[nc - T + i];
                outputPositionIds[T + i] = nullSeq.Positions[nn - T + i];
            }
            b.Write(outputPositions.All, outputPositionIds);
        }
        var host = new float[2 * T * V];    // cond rows, then null rows
        var guided = new float[T * V];
        var outputIds = new int[2 * T * columns];   // the new output ids, written for both sequences
        for (int s = 0; s < steps; s++)
        {
            double t = steps == 1 ? 0 : (double)s / (steps - 1);
            int k = Math.Clamp((int)(Math.Cos(t * Math.PI * 0.5) * T), 1, Math.Max(1, T - s));
            // The k lowest scores are masked again.
            for (int i = 0; i < T; i++) order[i] = i;
            order.AsSpan().Sort(byScore);
            for (int j = 0; j < k; j++) tokens[order[j]] = c.MaskToken;
            observer?.Tokens(EckerPass.DemaskCond, s, tokens);
            for (int i = 0; i < T; i++)
            {
                masked[i] = tokens[i] == c.MaskToken;
                // The other id columns stay 0 (one table).
                outputIds[i * columns] = tokens[i];
                outputIds[(T + i) * columns] = tokens[i];
            }
            if (s == 0)
            {
                // Step 0 starts all masked, as the sequences were built: the embedded batch is ready.
                if (observer is not null)
                {
                    Observe(observer, EckerPass.DemaskCond, 0, x.Slice(0, nc), positions.Slice(0, nc), nc);
                    Observe(observer, EckerPass.DemaskNull, 0, x.Slice(nc, nn), positions.Slice(nc, nn), nn);
                }
                EckerTransformer.Forward(b, _w, cache, x.All, positions.All, segments, scratch, cancellation);
                b.Linear(classifier, x.Slice(nc - T, T), logits.Slice(0, T));
                b.Linear(classifier, x.Slice(rows - T, T), logits.Slice(T, T));
            }
            else if (reusePrefix)
            {
                var xo = x.Slice(0, 2 * T);
                b.Write(outputIdTensor.All, outputIds);
                b.GatherSum([table], outputIdTensor.All, xo);
                EckerTransformer.Forward(b, _w, cache, xo, outputPositions.All, outputSegments, scratch, cancellation);
                b.Linear(classifier, xo, logits.All);
            }
            else
            {
                b.Write(ids.Slice(nc - T, T), outputIds.AsSpan(0, T * columns));
                b.Write(ids.Slice(rows - T, T), outputIds.AsSpan(T * columns));
                condSeq.Gather(b, x.Slice(0, nc), ids.Slice(0, nc));
                nullSeq.Gather(b, x.Slice(nc, nn), ids.Slice(nc, nn));
                EckerTransformer.Forward(b, _w, cache, x.All, positions.All, segments, scratch, cancellation);
                b.Linear(classifier, x.Slice(nc - T, T), logits.Slice(0, T));
                b.Linear(classifier, x.Slice(rows - T, T), logits.Slice(T, T));
            }
            b.Read(logits.All, host);
            var cond = host.AsSpan(0, T * V);
            var nul = host.AsSpan(T * V, T * V);
            observer?.Logits(EckerPass.DemaskCond, s, cond, T, V);
            observer?.Logits(EckerPass.DemaskNull, s, nul, T, V);
            for (int i = 0; i < guided.Length; i++) guided[i] = (float)(nul[i] + (cond[i] - nul[i]) * strength);
            double factor = rescale * Std(cond) / Std(guided) + (1 - rescale);
            for (int i = 0; i < guided.Length; i++) guided[i] = (float)(guided[i] * factor);
            observer?.Logits(EckerPass.DemaskCfg, s, guided, T, V);
            // Upstream's annealed_sampling (on by default): the temperature falls linearly to 0 at the last step.
            float temperature = sampling is null ? 0f : sampling.ArTemperature * (float)(1 - t);
            for (int i = 0; i < T; i++)
            {
                var row = guided.AsSpan(i * V, V);
                if (sampler is null)
                {
                    int best = TokenSampler.ArgMax(row);
                    scores[i] = EckerSampler.ArgMaxProbability(row, best);
                    if (masked[i]) tokens[i] = best;
                    continue;
                }
                sampler.Filter(row, [], T, i, stopToken: -1);
                (int argmax, scores[i]) = EckerSampler.ArgMaxScore(row, sampling!.MinArTemperature);
                if (!masked[i]) continue;
                EckerSampler.Temper(row, temperature, sampling.MinArTemperature);
                tokens[i] = temperature > 0f ? sampler.Pick(row, temperature, (ulong)i, EckerSampler.DemaskStream(s)) : argmax;
            }
        }
        return tokens;
    }

    /// <summary>Sample standard deviation (Bessel's correction) over every element, as torch's <c>std()</c>.</summary>
    private static double Std(ReadOnlySpan<float> values)
    {
        double mean = 0;
        foreach (float v in values) mean += v;
        mean /= values.Length;
        double ss = 0;
        foreach (float v in values) ss += (v - mean) * (v - mean);
        return Math.Sqrt(ss / Math.Max(1, values.Length - 1));
    }

    private void Observe(IEckerObserver? observer, EckerPass pass, int index, TensorRows x, TensorRows positions, int n)
    {
        if (observer is null) return;
        var e = new float[n * Config.Dim];
        var p = new int[n];
        _b.Read(x, e);
        _b.Read(positions, p);
        observer.Inputs(pass, index, e, p);
    }

    public void Dispose()
    {
        _w.Dispose();
        _ownedBackend?.Dispose();
    }
}
