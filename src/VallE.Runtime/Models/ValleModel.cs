using System.Diagnostics;
using VallE.Runtime.Backends;
using VallE.Runtime.Codec;
using VallE.Runtime.Cpu;
using VallE.Weights;

namespace VallE.Runtime.Models;

/// <summary>
/// A loaded VALL-E (lifeiteng) or VALL-E X (Plachtaa) model on a compute backend (the CPU by default):
/// <code>
/// using var checkpoint = ModelCheckpoint.Open(path, ConfigOverrides.None);
/// using var model = ValleModel.Load(checkpoint, new EngineOptions { Threads = 4 });
/// GenerationResult r = model.Generate(new GenerationRequest { TextTokens = x, PromptCodes = y, EnrollTokens = n });
/// </code>
/// The model is written once (<see cref="ArDecoder"/>, <see cref="NarDecoder"/>, <see cref="Transformer"/>) over
/// the operations of <see cref="IComputeBackend"/>; a backend implements operations only. Weights are copied to
/// the backend at load time, so the checkpoint may be disposed afterwards. A model is not thread-safe: run one
/// call at a time (batch utterances with <see cref="GenerateBatch"/> instead). Each model owns its backend (on the
/// CPU: worker threads, kernel ISA, attention settings from its <see cref="EngineOptions"/>), so several models,
/// with different settings or not, run concurrently in one process; <see cref="Dispose"/> releases it.
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
    /// <summary>The backend the model runs on (owned: disposed with the model).</summary>
    internal IComputeBackend Compute { get; }
    /// <summary>"cpu" or "cuda".</summary>
    public string Device => Compute.Name;
    /// <summary>The CPU backend's worker pool (CPU models only).</summary>
    internal CpuBackend Backend => (Compute as CpuComputeBackend)?.Pool
        ?? throw new InvalidOperationException($"the model runs on {Compute.Name}, not the CPU");

    private ValleModel(ValleWeights weights, EngineOptions options, IComputeBackend compute)
    {
        _weights = weights;
        Options = options;
        Compute = compute;
        _ar = new ArDecoder(weights, compute);
        _nar = new NarDecoder(weights, compute);
    }

    /// <summary>Loads the model on the CPU backend <paramref name="options"/> describe.</summary>
    public static ValleModel Load(ModelCheckpoint checkpoint, EngineOptions? options = null)
    {
        options ??= new EngineOptions();
        return Load(checkpoint, options, new CpuComputeBackend(options.CreateBackend()));
    }

    /// <summary>
    /// Loads the model on <paramref name="backend"/>, which the model then owns (also when loading fails). A
    /// backend that lacks an operation the checkpoint needs is refused first, with the operation named
    /// (<see cref="InvalidInputException"/>): there is no silent switch to another device.
    /// </summary>
    public static ValleModel Load(ModelCheckpoint checkpoint, EngineOptions options, IComputeBackend backend)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(backend);
        try
        {
            ModelRequirements.Check(checkpoint.Config, options.WeightsDType, backend);
            // AdaLN's per-stage projections are load-time products on the CPU: the CPU backend's own kernels where that
            // is the backend (same ISA, same bits), a one-thread pool otherwise.
            var cpu = (backend as CpuComputeBackend)?.Pool;
            using var temporary = cpu is null ? new CpuBackend(threads: 1) : null;
            return new ValleModel(ValleWeights.Load(checkpoint, options.WeightsDType, backend, cpu ?? temporary!), options, backend);
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    /// <summary>Releases the model's weights and backend; later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _weights.Dispose();
        Compute.Dispose();
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
        for (int i = 0; i < requests.Count; i++) arInputs[i] = RequestValidation.Validate(Config, requests[i], i);

        var clock = Stopwatch.StartNew();
        var (tokens, steps, reasons, _) = _ar.Run(arInputs, observer, cancellation);
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
    /// Upstream VALL-E X's <c>best_of</c>: <paramref name="count"/> AR candidates of <paramref name="request"/>
    /// sampled in ONE batched AR pass (candidate <c>i</c> samples with seed <c>Seed + i</c>, or its own random seed
    /// when the request has none), each scored by the mean log-probability of its sampled tokens as upstream
    /// does (<c>sum_logprobs / len(y)</c>, len(y) counting BOS, prompt and generated frames); the NAR then runs on
    /// the best one only (the first on ties, as <c>torch.argmax</c>). The result's
    /// <see cref="GenerationResult.CandidateScores"/> hold every candidate's score; ArSteps and StopReason are the
    /// best candidate's.
    /// </summary>
    public GenerationResult GenerateBestOf(GenerationRequest request, int count, IInferenceObserver? observer = null,
        CancellationToken cancellation = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(request);
        if (count is < 1 or > MaxBestOf) throw new ArgumentOutOfRangeException(nameof(count), $"best-of {count} must be in 1..{MaxBestOf}");
        ArInput input = RequestValidation.Validate(Config, request, 0);
        var arInputs = new ArInput[count];
        for (int i = 0; i < count; i++)
        {
            ulong? seed = request.Sampling.Seed is { } s ? unchecked(s + (ulong)i) : null;
            arInputs[i] = input with { Sampling = request.Sampling with { Seed = seed }, Score = true };
        }

        var clock = Stopwatch.StartNew();
        var ar = _ar.Run(arInputs, observer, cancellation);
        double arMs = clock.Elapsed.TotalMilliseconds;

        int prefix = (Config.PrependBos ? 1 : 0) + request.PromptCodes.Frames;
        var scores = new double[count];
        int best = 0;
        for (int i = 0; i < count; i++)
        {
            scores[i] = ar.LogProbabilities[i] / Math.Max(1, prefix + ar.Tokens[i].Length);
            if (scores[i] > scores[best]) best = i;
        }

        clock.Restart();
        var (text, languages) = NarText(request, input.Languages);
        var nar = new NarInput(text, request.PromptCodes, ar.Tokens[best].Select(t => (long)t).ToArray(), languages);
        var codes = _nar.Run([nar], observer, cancellation)[0];
        double narMs = clock.Elapsed.TotalMilliseconds;
        return new GenerationResult
        {
            Codes = codes,
            ArSteps = ar.Steps[best],
            ArMilliseconds = arMs,
            NarMilliseconds = narMs,
            StopReason = ar.StopReasons[best],
            ArLogProbability = ar.LogProbabilities[best],
            ArMeanLogProbability = scores[best],
            CandidateScores = scores,
            BestCandidate = best,
        };
    }

    /// <summary>Most candidates <see cref="GenerateBestOf"/> takes.</summary>
    public const int MaxBestOf = 64;

    /// <summary>
    /// lifeiteng's <c>continual</c>: no AR; the first <c>min(T/2, 225)</c> frames of <paramref name="codes"/> are the
    /// prompt, codebook 0 of the rest is kept and the NAR fills in codebooks 1..7 of those frames.
    /// </summary>
    public GenerationResult Continual(long[] textTokens, AudioCodes codes, IInferenceObserver? observer = null, CancellationToken cancellation = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var c = Config;
        RequestValidation.Text(Config, textTokens, 0);
        RequestValidation.Codes(Config, codes, 0, "codes");
        int T = codes.Frames;
        int prefix = Math.Min(T / 2, 3 * EncodecContract.FramesPerSecond);   // upstream: at most a 3 s prompt
        AudioCodes prompt = codes.Slice(0, prefix);
        long[] first = codes.Slice(prefix, T - prefix).Codebook(0);

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
        return (text, arLanguages is null ? null : RequestValidation.LanguageIds(Config, r, text.Length));
    }
}
