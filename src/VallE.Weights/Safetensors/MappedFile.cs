using System.IO.MemoryMappedFiles;

namespace VallE.Weights.Safetensors;

/// <summary>
/// A whole file mapped read-only into memory. Tensor storages are windows of it, so opening a multi-GB
/// checkpoint costs page-table entries, not copies. Disposing unmaps; storages must not be used after that.
/// </summary>
internal sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _base;

    public long Length { get; }
    public string Path { get; }

    public MappedFile(string path)
    {
        Path = path;
        FileInfo info;
        try
        {
            info = new FileInfo(path);
            if (!info.Exists) throw new InvalidInputException($"file not found: {path}");
            Length = info.Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException($"cannot read {path}: {e.Message}", e);
        }
        if (Length == 0) return; // an empty file cannot be mapped; callers reject it by its length
        try
        {
            _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref _base);
            _base += _view.PointerOffset;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Dispose();
            throw new InvalidInputException($"cannot map {path}: {e.Message}", e);
        }
    }

    public byte* Pointer => _base;

    public ReadOnlySpan<byte> Span(long offset, int count)
    {
        if (offset < 0 || count < 0 || offset + count > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, +{count}) outside {Path} ({Length} bytes)");
        return new ReadOnlySpan<byte>(_base + offset, count);
    }

    public void Dispose()
    {
        if (_view is not null && _base != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _base = null;
        }
        _view?.Dispose();
        _map?.Dispose();
    }
}
