using VallE.Weights.Pickle;

namespace VallE.Weights.Torch;

/// <summary>
/// A PyTorch zip checkpoint (<c>torch.save</c>, torch &gt;= 1.6) opened safely: <c>data.pkl</c> run through the
/// allow-list unpickler, tensors as <see cref="TensorData"/> views over memory-mapped <c>data/N</c> storages
/// (shared storages stay shared, so tied weights alias). Nothing in the file is executed.
/// The values stay valid until this object is disposed.
/// </summary>
public sealed partial class TorchCheckpoint : IDisposable
{
    /// <summary>The unpickled root object (usually a <see cref="PyDict"/>), value model in Pickle/PyObjects.cs.</summary>
    public object? Root { get; }

    public string Path { get; }

    private readonly IDisposable? _owner;

    private TorchCheckpoint(string path, object? root, IDisposable? owner)
    {
        Path = path;
        Root = root;
        _owner = owner;
    }

    /// <summary>
    /// Opens <paramref name="path"/>. Throws <see cref="InvalidInputException"/> with a one-line reason naming the
    /// offending zip entry, pickle opcode/global or tensor for anything corrupt, hostile or unsupported.
    /// </summary>
    public static TorchCheckpoint Open(string path) => throw new NotImplementedException("TorchCheckpoint.Open: being written (zip + pickle VM)");

    public void Dispose() => _owner?.Dispose();
}
