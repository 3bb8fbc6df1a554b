using VallE.Runtime.Codec;
using VallE.Runtime.Cpu;
using VallE.Runtime.Sampling;

namespace VallE.Runtime.Models;

/// <summary>How the engine runs: fixed for the lifetime of a loaded <see cref="ValleModel"/>.</summary>
public sealed record EngineOptions
{
    /// <summary>
    /// Threads of the model's CPU backend (matrix products and attention), the calling thread included; 0 = all
    /// cores. Each model has its own worker pool of this size.
    /// </summary>
    public int Threads { get; init; }
    /// <summary>Storage of the linear layers' weights (embedding tables and norms stay float32).</summary>
    public WeightsDType WeightsDType { get; init; } = WeightsDType.F32;
    /// <summary>
    /// Instruction set of the CPU kernels; null = the best this CPU has (<see cref="CpuBackend.BestIsa"/>). Lower it
    /// to run the AVX2 or scalar paths (tests, benchmarks); results may differ from the default's in the last bits.
    /// </summary>
    public KernelIsa? Isa { get; init; }
    /// <summary>Blocked attention kernels where the ISA allows (default); false = the per-row path (for comparison).</summary>
    public bool BlockedAttention { get; init; } = true;

    internal int ResolvedThreads => Threads > 0 ? Threads : Environment.ProcessorCount;

    /// <summary>A new backend with these settings (the caller disposes it).</summary>
    internal CpuBackend CreateBackend() => new(ResolvedThreads, Isa, BlockedAttention);
}

/// <summary>
/// One utterance to synthesise, in the terms of upstream's <c>inference(x, x_lens, y, enroll_x_lens, ...)</c>.
/// </summary>
public sealed record GenerationRequest
{
    /// <summary>
    /// Most text tokens one utterance may have. Upstream sets no limit, but the AR may generate 16 frames per
    /// text token and sizes its KV cache for that: 1024 tokens (about a minute of speech) already reserve
    /// 17,000 positions (1.6 GB of cache for the full-size model). Longer text is several utterances
    /// (<c>synth --sentences</c>).
    /// </summary>
    public const int MaxTextTokens = 1024;

    /// <summary>
    /// Upstream's length rule: the AR stops once it has generated more than 16 frames per text token
    /// (<c>len(y) - len(prompt) &gt; 16 * len(text)</c>).
    /// </summary>
    public const int MaxFramesPerTextToken = 16;

    /// <summary>Longest audio budget <see cref="MaxFramesFor"/> accepts, in seconds.</summary>
    public const double MaxDurationLimitSeconds = 3600;

    /// <summary>
    /// <see cref="MaxFrames"/> for at most <paramref name="seconds"/> of generated audio (75 frames per second,
    /// rounded up). An <see cref="ArgumentOutOfRangeException"/> named <c>MaxDuration</c> outside (0, 3600] s.
    /// </summary>
    public static int MaxFramesFor(double seconds)
    {
        if (!(seconds > 0) || seconds > MaxDurationLimitSeconds)
            throw new ArgumentOutOfRangeException("MaxDuration",
                $"MaxDuration {seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)} must be in (0, {MaxDurationLimitSeconds}] seconds");
        return (int)Math.Ceiling(seconds * EncodecContract.FramesPerSecond);
    }

    /// <summary>Text token ids <c>[S]</c>: &lt;bos&gt;, prompt transcript, target text, &lt;eos&gt; (upstream's <c>x</c>).</summary>
    public required long[] TextTokens { get; init; }
    /// <summary>Acoustic prompt codes <c>[T', NumQuantizers]</c>, frame-major (upstream's <c>y</c>).</summary>
    public required AudioCodes PromptCodes { get; init; }
    /// <summary>
    /// Upstream's <c>enroll_x_lens</c>: how many leading text tokens belong to the prompt transcript (with &lt;bos&gt;).
    /// Needed by prefix modes 2/4 and by VALL-E X's language embeddings; null elsewhere.
    /// </summary>
    public int? EnrollTokens { get; init; }
    /// <summary>VALL-E X: language of the prompt ("en", "zh", "ja"); added to the first EnrollTokens text positions.</summary>
    public string? PromptLanguage { get; init; }
    /// <summary>VALL-E X: language of the text to speak; added to the remaining text positions.</summary>
    public string? TextLanguage { get; init; }
    /// <summary>
    /// VALL-E X, mixed-language text: one language per text token after the first EnrollTokens (upstream's list form
    /// of <c>text_language</c>); replaces <see cref="TextLanguage"/> when given. Not usable with prefix modes 2/4
    /// (upstream cannot broadcast it onto the shortened NAR text either).
    /// </summary>
    public IReadOnlyList<string>? TextLanguages { get; init; }
    /// <summary>AR sampling. Upstream's <c>top_k=1</c> is <c>new SamplingOptions { TopK = 1 }</c>.</summary>
    public SamplingOptions Sampling { get; init; } = new();
    /// <summary>Upper bound on generated frames, on top of upstream's own limit (16 frames per text token).</summary>
    public int? MaxFrames { get; init; }
    /// <summary>
    /// e-c-k-e-r/vall-e: mode, demasking and NAR sampler (null: the defaults). For those models
    /// <see cref="TextTokens"/> are upstream's phoneme ids (with &lt;s&gt; 1 … &lt;/s&gt; 2), <see cref="TextLanguage"/> a
    /// language name or id (<see cref="VallE.Runtime.Models.Ecker.EckerLanguages.Parse"/>), <see cref="Sampling"/> the AR's sampler and
    /// <see cref="MaxFrames"/> upstream's <c>max_duration</c> (default 12 s).
    /// </summary>
    public VallE.Runtime.Models.Ecker.EckerSettings? Ecker { get; init; }
}

/// <summary>Generated codes and where the time went.</summary>
public sealed record GenerationResult
{
    /// <summary>Generated codes <c>[T, NumQuantizers]</c> (prompt frames excluded), as upstream's inference returns.</summary>
    public required AudioCodes Codes { get; init; }
    public int Frames => Codes.Frames;
    /// <summary>AR decode steps run, including the prefill and the step that stopped.</summary>
    public int ArSteps { get; init; }
    /// <summary>Wall time of the AR phase (prefill + decode) of the call this result came from.</summary>
    public double ArMilliseconds { get; init; }
    /// <summary>Wall time of the NAR phase of the call this result came from.</summary>
    public double NarMilliseconds { get; init; }
    /// <summary>Why the AR stopped: "eos", "length" (16 per text token), "max-frames", or "none" (continual).</summary>
    public string StopReason { get; init; } = "none";

    /// <summary>
    /// Best-of results only (<see cref="ValleModel.GenerateBestOf"/>): the sum of the log-probabilities of the kept
    /// candidate's sampled AR tokens (its last, EOS, included), under the distribution each was drawn from (after
    /// temperature and the sampling filters), as upstream's <c>sum_logprobs</c>. Null elsewhere.
    /// </summary>
    public double? ArLogProbability { get; init; }
    /// <summary>
    /// Best-of results only: upstream's <c>avg_logprobs</c> of the kept candidate, <see cref="ArLogProbability"/>
    /// divided by BOS + prompt frames + generated frames (<c>length_penalty</c> 1). Null elsewhere.
    /// </summary>
    public double? ArMeanLogProbability { get; init; }
    /// <summary>Best-of results only: every candidate's <see cref="ArMeanLogProbability"/>, in seed order.</summary>
    public IReadOnlyList<double>? CandidateScores { get; init; }
    /// <summary>Best-of results only: the index of the kept candidate in <see cref="CandidateScores"/>.</summary>
    public int? BestCandidate { get; init; }

    /// <summary>AR milliseconds per generated token (0 when nothing was generated).</summary>
    public double ArMillisecondsPerToken => ArSteps > 0 ? ArMilliseconds / ArSteps : 0;
}

/// <summary>
/// Sees the logits the engine computes (tests compare them with upstream's). Called off the hot path only
/// when one is given; spans are valid during the call only.
/// </summary>
public interface IInferenceObserver
{
    /// <summary>AR logits <c>[AudioVocab + 1]</c> of <paramref name="sequence"/> (index in the batch) at decode <paramref name="step"/> (0 = prefill).</summary>
    void OnArLogits(int sequence, int step, ReadOnlySpan<float> logits);

    /// <summary>NAR logits <c>[frames, AudioVocab]</c> of <paramref name="sequence"/> for codebook <paramref name="stage"/> (1..7).</summary>
    void OnNarLogits(int sequence, int stage, int frames, ReadOnlySpan<float> logits);
}
