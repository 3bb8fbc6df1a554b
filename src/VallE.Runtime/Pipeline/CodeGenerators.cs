using VallE.Runtime.Models;
using VallE.Weights;

namespace VallE.Runtime.Pipeline;

/// <summary>The model half of synthesis: text tokens + prompt codes to generated codes, on some backend.</summary>
public interface ICodeGenerator : IDisposable
{
    ModelConfig Config { get; }
    /// <summary>"cpu" or "cuda".</summary>
    string Device { get; }
    /// <summary>Runs AR + NAR; <paramref name="cancellation"/> stops it between decoder layers and AR steps.</summary>
    GenerationResult Generate(GenerationRequest request, IInferenceObserver? observer, CancellationToken cancellation = default);
    /// <summary>
    /// Upstream VALL-E X's <c>best_of</c>: <paramref name="count"/> AR candidates in one batched pass, the NAR on the
    /// one with the highest mean log-probability (<see cref="ValleModel.GenerateBestOf"/>).
    /// </summary>
    GenerationResult GenerateBestOf(GenerationRequest request, int count, IInferenceObserver? observer, CancellationToken cancellation = default);
}

/// <summary>
/// The VALL-E model (<see cref="ValleModel"/>) on whichever backend it was loaded on; owns the model (Dispose
/// disposes it and its backend).
/// </summary>
public sealed class ValleCodeGenerator(ValleModel model) : ICodeGenerator
{
    /// <summary>The loaded model.</summary>
    public ValleModel Model => model;
    public ModelConfig Config => model.Config;
    public string Device => model.Device;
    public GenerationResult Generate(GenerationRequest request, IInferenceObserver? observer, CancellationToken cancellation = default) =>
        model.Generate(request, observer, cancellation);
    public GenerationResult GenerateBestOf(GenerationRequest request, int count, IInferenceObserver? observer, CancellationToken cancellation = default) =>
        model.GenerateBestOf(request, count, observer, cancellation);
    public void Dispose() => model.Dispose();
}
