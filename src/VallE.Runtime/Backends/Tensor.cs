namespace VallE.Runtime.Backends;

/// <summary>Storage type of a <see cref="Tensor"/>: float32 activations or int32 ids, positions and counters.</summary>
public enum TensorType
{
    F32,
    I32,
}

/// <summary>
/// A row-major <c>[Rows, Cols]</c> matrix in a backend's memory (host arrays on the CPU, device memory on CUDA).
/// Made by <see cref="IComputeBackend.Allocate"/> once per call (a prefill, a generation), never per token; ops
/// read and write row ranges of it (<see cref="TensorRows"/>). Only the backend that made a tensor may use it.
/// </summary>
public abstract class Tensor : IDisposable
{
    protected Tensor(IComputeBackend owner, TensorType type, int rows, int cols)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(cols, 1);
        Owner = owner;
        Type = type;
        Rows = rows;
        Cols = cols;
    }

    public IComputeBackend Owner { get; }
    public TensorType Type { get; }
    public int Rows { get; }
    public int Cols { get; }
    public long Elements => (long)Rows * Cols;

    /// <summary>Every row.</summary>
    public TensorRows All => new(this, 0, Rows);

    /// <summary>Rows <c>[first, first + count)</c>.</summary>
    public TensorRows Slice(int first, int count) => new(this, first, count);

    public abstract void Dispose();

    public override string ToString() => $"{Type}[{Rows}, {Cols}]";
}

/// <summary>Rows <c>[First, First + Count)</c> of a <see cref="Tensor"/>: what every op reads and writes.</summary>
public readonly struct TensorRows
{
    public TensorRows(Tensor tensor, int first, int count)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (first < 0 || count < 0 || first + count > tensor.Rows)
            throw new ArgumentOutOfRangeException(nameof(first), $"rows [{first}, {first + count}) of a tensor of {tensor.Rows} rows");
        Tensor = tensor;
        First = first;
        Count = count;
    }

    public Tensor Tensor { get; }
    public int First { get; }
    public int Count { get; }
    public int Cols => Tensor.Cols;
    /// <summary>Offset of the first element in the tensor's storage.</summary>
    public long Offset => (long)First * Tensor.Cols;
    public long Elements => (long)Count * Tensor.Cols;

    /// <summary>Rows <c>[First + first, First + first + count)</c>.</summary>
    public TensorRows Slice(int first, int count)
    {
        if (first < 0 || count < 0 || first + count > Count)
            throw new ArgumentOutOfRangeException(nameof(first), $"rows [{first}, {first + count}) of a view of {Count} rows");
        return new TensorRows(Tensor, First + first, count);
    }

    public override string ToString() => $"{Tensor}[{First}..{First + Count})";
}
