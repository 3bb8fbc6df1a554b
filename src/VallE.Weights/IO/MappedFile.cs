using System.IO.MemoryMappedFiles;

namespace VallE.Weights.IO;

/// <summary>
/// A whole file mapped read-only into the address space. Pages are read lazily by the OS and shared with the
/// page cache, so mapping a multi-gigabyte checkpoint costs neither time nor private memory until bytes are
/// touched. All access goes through <see cref="Window"/>, which checks bounds, so no caller can read outside
/// the file. The mapping (and every span or <see cref="NativeTensorStorage"/> over it) lives until Dispose.
/// </summary>
public sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _base;

    public string Path { get; }
    public long Length { get; }

    private MappedFile(string path, long length, MemoryMappedFile map, MemoryMappedViewAccessor view)
    {
        Path = path;
        Length = length;
        _map = map;
        _view = view;
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + view.PointerOffset;
    }

    /// <summary>
    /// Maps <paramref name="path"/>. Missing files, directories and empty files are <see cref="InvalidInputException"/>s
    /// (an empty file cannot be mapped, and no format we read is empty).
    /// </summary>
    public static MappedFile Open(string path)
    {
        if (Directory.Exists(path)) throw new InvalidInputException($"{path}: is a directory, expected a file");
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: file not found");
        FileStream? fs = null;
        MemoryMappedFile? map = null;
        try
        {
            fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
            long length = fs.Length;
            if (length == 0) throw new InvalidInputException($"{path}: empty file");
            map = MemoryMappedFile.CreateFromFile(fs, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            fs = null; // owned by the map now
            var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            return new MappedFile(path, length, map, view);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            map?.Dispose();
            throw new InvalidInputException($"{path}: cannot map file: {e.Message}", e);
        }
        catch
        {
            map?.Dispose();
            throw;
        }
        finally
        {
            fs?.Dispose();
        }
    }

    /// <summary>Base address of the mapping; valid until Dispose. Only for building bounded windows.</summary>
    internal byte* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_base == null, this);
            return _base;
        }
    }

    /// <summary>True when [offset, offset + count) lies inside the file (overflow-safe).</summary>
    public bool Contains(long offset, long count) => offset >= 0 && count >= 0 && offset <= Length && count <= Length - offset;

    /// <summary>Bytes [offset, offset + count) of the file. Throws <see cref="InvalidInputException"/> past EOF.</summary>
    public ReadOnlySpan<byte> Window(long offset, int count)
    {
        if (!Contains(offset, count))
            throw new InvalidInputException($"{Path}: read of {count} bytes at offset {offset} runs past the end of the file ({Length} bytes)");
        return new ReadOnlySpan<byte>(Pointer + offset, count);
    }

    public void Dispose()
    {
        if (_base == null) return;
        _base = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
