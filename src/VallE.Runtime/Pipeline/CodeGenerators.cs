using System.Diagnostics;
using VallE.Runtime.Cuda;
using VallE.Runtime.Cuda.Model;
using VallE.Runtime.Models;
using VallE.Weights;

namespace VallE.Runtime.Pipeline;

/// <summary>The model half of synthesis: text tokens + prompt codes to generated codes, on some backend.</summary>
public interface ICodeGenerator : IDisposable
{
    ModelConfig Config { get; }
    /// <summary>"cpu" or "cuda".</summary>
    string Device { get; }
    /// <summary>False when the backend reports AR and NAR time together (in <see cref="GenerationResult.ArMilliseconds"/>).</summary>
    bool SplitsArAndNar { get; }
    /// <summary>Runs AR + NAR; <paramref name="cancellation"/> stops it between decoder layers (CPU) or AR steps (CUDA).</summary>
    GenerationResult Generate(GenerationRequest request, IInferenceObserver? observer, CancellationToken cancellation = default);
}

/// <summary>The CPU engine (<see cref="ValleModel"/>); owns the model (Dispose disposes it, retiring its worker threads).</summary>
public sealed class CpuCodeGenerator(ValleModel model) : ICodeGenerator
{
    /// <summary>The loaded CPU model.</summary>
    public ValleModel Model => model;
    public ModelConfig Config => model.Config;
    public string Device => "cpu";
    public bool SplitsArAndNar => true;
    public GenerationResult Generate(GenerationRequest request, IInferenceObserver? observer, CancellationToken cancellation = default) =>
        model.Generate(request, observer, cancellation);
    public void Dispose() => model.Dispose();
}

/// <summary>
/// The CUDA engine (<see cref="CudaValle"/>, lifeiteng VALL-E with prefix modes 0/1). It has no frame cap of its
/// own: with <see cref="GenerationRequest.MaxFrames"/> the generated codes are trimmed afterwards. AR and NAR time
/// are reported together.
/// </summary>
public sealed class CudaCodeGenerator : ICodeGenerator
{
    /// <summary>Positions (text + prompt + generated) the device buffers are sized for.</summary>
    public const int Capacity = 4096;
    private readonly CudaValle _valle;

    public ModelConfig Config => _valle.Config;
    public string Device => "cuda";
    public bool SplitsArAndNar => false;

    public CudaCodeGenerator(CudaDevice device, ModelCheckpoint checkpoint) =>
        _valle = CudaValle.Load(device, checkpoint, Capacity);

    public GenerationResult Generate(GenerationRequest request, IInferenceObserver? observer, CancellationToken cancellation = default)
    {
        // The same checks and messages as the CPU engine; the device model keeps only its memory-safety guards.
        RequestValidation.Validate(Config, request, 0);
        int books = Config.NumQuantizers;
        long[,] prompt = request.PromptCodes;
        int total = request.TextTokens.Length + prompt.GetLength(0) + GenerationRequest.MaxFramesPerTextToken * request.TextTokens.Length + 2;
        if (total > Capacity)
            throw new InvalidInputException($"text ({request.TextTokens.Length} tokens) and prompt ({prompt.GetLength(0)} frames) need up to {total} positions; the CUDA engine holds {Capacity}: shorten the prompt or split the text into sentences");
        var text = new int[request.TextTokens.Length];
        for (int i = 0; i < text.Length; i++) text[i] = checked((int)request.TextTokens[i]);
        var promptFlat = new int[prompt.Length];
        for (int t = 0, k = 0; t < prompt.GetLength(0); t++)
            for (int q = 0; q < books; q++) promptFlat[k++] = checked((int)prompt[t, q]);
        ulong seed = request.Sampling.Seed ?? (ulong)Random.Shared.NextInt64();

        var clock = Stopwatch.StartNew();
        var (codes, stop) = _valle.Generate(text, promptFlat, request.Sampling, seed, cancellation);
        double ms = clock.Elapsed.TotalMilliseconds;

        int frames = codes.Length / books;
        string reason = stop == CudaArStop.LengthLimit ? "length" : "eos";
        if (request.MaxFrames is { } cap && frames > cap) { frames = cap; reason = "max-frames"; }
        var result = new long[frames, books];
        for (int t = 0; t < frames; t++)
            for (int q = 0; q < books; q++) result[t, q] = codes[t * books + q];
        return new GenerationResult { Codes = result, ArSteps = codes.Length / books + 1, ArMilliseconds = ms, StopReason = reason };
    }

    public void Dispose() => _valle.Dispose();
}
