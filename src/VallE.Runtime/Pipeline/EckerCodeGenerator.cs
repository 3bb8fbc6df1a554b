using System.Diagnostics;
using VallE.Runtime.Cpu;
using VallE.Runtime.Models;
using VallE.Runtime.Models.Ecker;
using VallE.Weights;

namespace VallE.Runtime.Pipeline;

/// <summary>
/// An e-c-k-e-r/vall-e model (<see cref="EckerModel"/>) behind <see cref="ICodeGenerator"/>, so that <c>generate</c>,
/// <c>synth</c>, the library, the server and the C ABI run it through the one path they use for VALL-E. The
/// <see cref="GenerationRequest"/> is read the ecker way (<see cref="GenerationRequest.Ecker"/>): text tokens are
/// phoneme ids, <see cref="GenerationRequest.TextLanguage"/> the language, <see cref="GenerationRequest.Sampling"/>
/// the AR's sampler, <see cref="GenerationRequest.MaxFrames"/> upstream's <c>max_duration</c>. Owns the model.
/// </summary>
public sealed class EckerCodeGenerator : ICodeGenerator
{
    private readonly EckerModel _model;

    /// <param name="config">the checkpoint's configuration (family <see cref="ModelFamily.Ecker"/>).</param>
    /// <param name="device">"cpu" or "cuda": the backend <paramref name="model"/> was loaded on.</param>
    public EckerCodeGenerator(EckerModel model, ModelConfig config, string device)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        Config = config ?? throw new ArgumentNullException(nameof(config));
        Device = device ?? throw new ArgumentNullException(nameof(device));
    }

    /// <summary>Loads <paramref name="checkpoint"/> on a CPU backend of its own (<paramref name="options"/>' threads, ISA, dtype).</summary>
    public static EckerCodeGenerator LoadCpu(ModelCheckpoint checkpoint, EngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(options);
        var backend = new CpuComputeBackend(options.CreateBackend(), ownsPool: true);
        try
        {
            return new EckerCodeGenerator(EckerModel.Load(checkpoint, backend, options.WeightsDType, ownsBackend: true), checkpoint.Config, "cpu");
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    /// <summary>The loaded model.</summary>
    public EckerModel Model => _model;
    public ModelConfig Config { get; }
    public string Device { get; }

    /// <summary>
    /// Level 0 by the AR (<c>ar+nar</c>) or by demasking (<c>nar-len</c>), then the NAR levels. The result's AR fields
    /// describe level 0: for <c>nar-len</c> the steps are demasking steps and the stop reason is <c>nar-len</c>.
    /// </summary>
    public GenerationResult Generate(GenerationRequest request, IInferenceObserver? observer, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.EnrollTokens is not null || request.PromptLanguage is not null || request.TextLanguages is not null)
            throw new InvalidInputException("enroll tokens, a prompt language and per-token languages are VALL-E X's; an e-c-k-e-r/vall-e request takes one text language");
        var settings = request.Ecker ?? new EckerSettings();
        EckerMode mode = EckerModes.Resolve(_model.Config, settings.Mode);
        if (request.MaxFrames is < 1) throw new InvalidInputException($"max frames {request.MaxFrames} must be >= 1") { Setting = nameof(request.MaxFrames) };
        var ecker = new EckerRequest
        {
            PhonemeTokens = request.TextTokens,
            PromptCodes = request.PromptCodes,
            Language = EckerLanguages.Parse(request.TextLanguage),
            Sampling = settings.SamplingFor(request.Sampling),
        };
        if (request.MaxFrames is { } cap) ecker = ecker with { MaxDuration = cap };
        var watch = observer is null ? null : new Progress(observer);

        var clock = Stopwatch.StartNew();
        int[] level0;
        int steps;
        string stop;
        if (mode == EckerMode.ArNar)
        {
            level0 = _model.GenerateAr(ecker, watch, cancellation);
            bool capped = level0.Length >= ecker.MaxDuration;
            steps = level0.Length + (capped ? 0 : 1);   // the step that produced the stop token counts
            stop = !capped ? "eos" : request.MaxFrames is null ? "length" : "max-frames";
        }
        else
        {
            level0 = _model.GenerateLevel0NarLen(ecker, settings.Demask, watch, cancellation);
            steps = settings.Demask.Steps;
            stop = request.MaxFrames is not null && level0.Length >= ecker.MaxDuration ? "max-frames" : "nar-len";
        }
        double level0Ms = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var codes = _model.GenerateNar(ecker, level0, watch, cancellation);
        return new GenerationResult
        {
            Codes = codes,
            ArSteps = steps,
            ArMilliseconds = level0Ms,
            NarMilliseconds = clock.Elapsed.TotalMilliseconds,
            StopReason = stop,
        };
    }

    /// <summary>Upstream VALL-E X's <c>best_of</c> has no ecker counterpart: refused.</summary>
    public GenerationResult GenerateBestOf(GenerationRequest request, int count, IInferenceObserver? observer, CancellationToken cancellation = default) =>
        count == 1 ? Generate(request, observer, cancellation)
            : throw new InvalidInputException("best-of is VALL-E X's (upstream's best_of); an e-c-k-e-r/vall-e model generates one candidate") { Setting = "BestOf" };

    public void Dispose() => _model.Dispose();

    /// <summary>
    /// The ecker model's logits as the progress callbacks VALL-E gives: AR steps as AR steps, NAR levels as NAR stages,
    /// NAR-len demasking steps as AR steps (with the first frame's guided logits).
    /// </summary>
    private sealed class Progress(IInferenceObserver observer) : IEckerObserver
    {
        public void Inputs(EckerPass pass, int index, ReadOnlySpan<float> embeddings, ReadOnlySpan<int> positions) { }

        public void Logits(EckerPass pass, int index, ReadOnlySpan<float> logits, int rows, int vocab)
        {
            switch (pass)
            {
                case EckerPass.Ar: observer.OnArLogits(0, index, logits); break;
                case EckerPass.DemaskCfg: observer.OnArLogits(0, index, logits[..vocab]); break;
                case EckerPass.Nar: observer.OnNarLogits(0, index, rows, logits); break;
            }
        }
    }
}
