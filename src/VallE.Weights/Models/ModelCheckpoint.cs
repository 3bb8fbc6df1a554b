namespace VallE.Weights;

/// <summary>
/// A VALL-E checkpoint opened for inference: its resolved <see cref="ModelConfig"/> (with where each value
/// came from) and its tensors under canonical names. Canonical names are upstream's state_dict names
/// (<c>ar_decoder.layers.0.self_attn.in_proj_weight</c>, ...) with any <c>module.</c> prefix removed;
/// VALL-E X adds <c>ar_language_embedding.word_embeddings.weight</c> and its NAR twin.
///
/// Opening never executes anything from the file. Storages are memory-mapped where possible; the tensors
/// stay valid until this object is disposed. Tied tensors (NAR prediction layers and audio embeddings)
/// share one <see cref="TensorStorage"/>.
/// </summary>
public sealed partial class ModelCheckpoint : IDisposable
{
    public ModelConfig Config { get; }
    /// <summary>Where each hyper-parameter came from, keyed by its snake_case name as <c>valle inspect --json</c> prints it.</summary>
    public IReadOnlyDictionary<string, ConfigSource> Sources { get; }
    public IReadOnlyDictionary<string, TensorData> Tensors { get; }
    public string SourcePath { get; }
    /// <summary>"torch" (PyTorch zip), "safetensors" (a converted folder or a bare file).</summary>
    public string SourceFormat { get; }
    /// <summary>Dtype of the floating-point weights as stored.</summary>
    public DType SourceDType { get; }
    /// <summary>Overrides that were applied, for the one-line report the CLI prints.</summary>
    public IReadOnlyList<string> OverrideNotes { get; }

    private readonly IDisposable? _owner;

    public ModelCheckpoint(ModelConfig config, IReadOnlyDictionary<string, ConfigSource> sources,
        IReadOnlyDictionary<string, TensorData> tensors, string sourcePath, string sourceFormat, DType sourceDType,
        IReadOnlyList<string> overrideNotes, IDisposable? owner)
    {
        Config = config;
        Sources = sources;
        Tensors = tensors;
        SourcePath = sourcePath;
        SourceFormat = sourceFormat;
        SourceDType = sourceDType;
        OverrideNotes = overrideNotes;
        _owner = owner;
    }

    /// <summary>The tensor called <paramref name="name"/>; a clear error naming it when absent.</summary>
    public TensorData Get(string name) =>
        Tensors.TryGetValue(name, out var t) ? t : throw new InvalidInputException($"checkpoint has no tensor '{name}'");

    public void Dispose() => _owner?.Dispose();
}
