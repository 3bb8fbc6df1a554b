namespace VallE.Weights;

/// <summary>
/// The raw bytes behind one or more tensors: a PyTorch storage (<c>data/N</c> in a checkpoint zip) or a
/// safetensors data region. Usually a window of a memory-mapped file, so opening a large checkpoint costs
/// no copy; it stays valid while the object that opened it (e.g. <see cref="ModelCheckpoint"/>) is alive.
/// Tensors that share a storage object are tied (they alias the same memory).
/// </summary>
public abstract class TensorStorage
{
    /// <summary>Identifies the storage within its file (the torch storage key, or a safetensors byte range).</summary>
    public string Key { get; }

    /// <summary>Element type the storage was saved with (torch storages are typed).</summary>
    public DType DType { get; }

    public abstract long ByteLength { get; }

    protected TensorStorage(string key, DType dtype)
    {
        Key = key;
        DType = dtype;
    }

    /// <summary>A read-only window of the storage. Callers check bounds; this throws if they did not.</summary>
    public abstract ReadOnlySpan<byte> Slice(long byteOffset, int byteCount);

    public override string ToString() => $"storage {Key} ({DType.ShortName()}, {ByteLength} bytes)";
}

/// <summary>A storage held in managed memory (tests, small files, data produced in-process).</summary>
public sealed class ArrayTensorStorage : TensorStorage
{
    private readonly byte[] _bytes;

    public ArrayTensorStorage(string key, DType dtype, byte[] bytes) : base(key, dtype) => _bytes = bytes;

    public override long ByteLength => _bytes.LongLength;

    public override ReadOnlySpan<byte> Slice(long byteOffset, int byteCount)
    {
        if (byteOffset < 0 || byteCount < 0 || byteOffset + byteCount > _bytes.LongLength)
            throw new ArgumentOutOfRangeException(nameof(byteOffset), $"window [{byteOffset}, +{byteCount}) outside {this}");
        return new ReadOnlySpan<byte>(_bytes, checked((int)byteOffset), byteCount);
    }
}

/// <summary>
/// A storage that is a window of a memory-mapped file. The address is taken from the mapping at every access, so
/// using a storage after its checkpoint was disposed is an <see cref="ObjectDisposedException"/>, not a read of
/// unmapped memory.
/// </summary>
public sealed unsafe class NativeTensorStorage : TensorStorage
{
    private readonly VallE.Weights.IO.MappedFile _file;
    private readonly long _fileOffset;
    private readonly long _length;

    public NativeTensorStorage(string key, DType dtype, VallE.Weights.IO.MappedFile file, long fileOffset, long length) : base(key, dtype)
    {
        if (!file.Contains(fileOffset, length))
            throw new InvalidInputException($"{file.Path}: storage '{key}' [{fileOffset}, +{length}) runs past the end of the file ({file.Length} bytes)");
        _file = file;
        _fileOffset = fileOffset;
        _length = length;
    }

    public override long ByteLength => _length;

    public override ReadOnlySpan<byte> Slice(long byteOffset, int byteCount)
    {
        if (byteOffset < 0 || byteCount < 0 || byteOffset + byteCount > _length)
            throw new ArgumentOutOfRangeException(nameof(byteOffset), $"window [{byteOffset}, +{byteCount}) outside {this}");
        return new ReadOnlySpan<byte>(_file.Pointer + _fileOffset + byteOffset, byteCount);
    }
}
