using VallE.Weights.IO;
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
    public static TorchCheckpoint Open(string path)
    {
        var zip = MappedZipArchive.Open(path);
        try
        {
            var (prefix, pickleEntry) = FindArchive(zip);
            bool bigEndian = ReadByteOrder(zip, prefix);
            byte[] pickle = zip.ReadAllBytes(pickleEntry, MaxPickleBytes);
            var host = new TorchPickleHost(zip, prefix, bigEndian) { Source = "data.pkl" };
            object? root = Unpickler.Load(pickle, host);
            root = PyGraph.MapLeaves(root, host.Materialize);
            return new TorchCheckpoint(path, root, zip) { ArchiveName = prefix.TrimEnd('/'), StorageCount = host.Storages.Count, _zip = zip };
        }
        catch (InvalidInputException e)
        {
            zip.Dispose();
            throw new InvalidInputException($"{path}: {e.Message}", e);
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    /// <summary>Bound on <c>data.pkl</c> (metadata only: real ones are kilobytes to a few megabytes).</summary>
    public const long MaxPickleBytes = 1L << 30;

    /// <summary>The archive's top-level folder (torch uses the file stem or "archive").</summary>
    public string ArchiveName { get; private init; } = "";

    /// <summary>Number of distinct storages (data/N entries) the pickle referenced.</summary>
    public int StorageCount { get; private init; }

    private MappedZipArchive? _zip;

    /// <summary>
    /// Recomputes the CRC-32 of every zip entry (reads the whole file once). Opening skips this for mapped storages,
    /// since it would touch every page; call it before trusting the bytes for a conversion or an archive.
    /// Throws <see cref="InvalidInputException"/> naming the first corrupt entry.
    /// </summary>
    public void VerifyChecksums()
    {
        ObjectDisposedException.ThrowIf(_zip is null, this);
        try
        {
            foreach (var entry in _zip.Entries) _zip.VerifyCrc(entry);
        }
        catch (InvalidInputException e)
        {
            throw new InvalidInputException($"{Path}: {e.Message}", e);
        }
    }

    /// <summary>Every tensor reachable from <see cref="Root"/>, depth-first in file order, each once per reference.</summary>
    public IEnumerable<TensorData> AllTensors() => Enumerate(Root, new HashSet<object>(ReferenceEqualityComparer.Instance));

    private static IEnumerable<TensorData> Enumerate(object? value, HashSet<object> visited)
    {
        if (value is TensorData t) { yield return t; yield break; }
        if (!PyGraph.IsContainer(value) || !visited.Add(value!)) yield break;
        foreach (var child in PyGraph.Children(value!))
            foreach (var x in Enumerate(child, visited)) yield return x;
    }

    /// <summary>The single "&lt;folder&gt;/data.pkl" every torch zip holds; TorchScript and foreign zips get a clear error.</summary>
    private static (string Prefix, ZipEntry Pickle) FindArchive(MappedZipArchive zip)
    {
        ZipEntry? found = null;
        foreach (var e in zip.Entries)
        {
            int slash = e.Name.IndexOf('/');
            if (slash <= 0 || e.Name[(slash + 1)..] != "data.pkl") continue;
            if (found is not null) throw new InvalidInputException($"zip holds two pickles ('{found.Name}' and '{e.Name}'): not a torch.save checkpoint");
            found = e;
        }
        if (found is null)
        {
            bool script = zip.Entries.Any(e => e.Name.EndsWith("/constants.pkl", StringComparison.Ordinal) || e.Name.Contains("/code/", StringComparison.Ordinal));
            throw new InvalidInputException(script
                ? "this is a TorchScript archive (torch.jit.save), not a torch.save checkpoint; save the state_dict with torch.save"
                : "zip archive has no '<folder>/data.pkl': not a PyTorch checkpoint");
        }
        string prefix = found.Name[..(found.Name.IndexOf('/') + 1)];
        if (zip.Entries.Any(e => e.Name.EndsWith("/constants.pkl", StringComparison.Ordinal)))
            throw new InvalidInputException("this is a TorchScript archive (torch.jit.save), not a torch.save checkpoint; save the state_dict with torch.save");
        return (prefix, found);
    }

    /// <summary>torch &gt;= 2.1 records the writer's byte order; older files are little-endian.</summary>
    private static bool ReadByteOrder(MappedZipArchive zip, string prefix)
    {
        if (!zip.TryGetEntry(prefix + "byteorder", out var entry)) return !BitConverter.IsLittleEndian;
        string order = System.Text.Encoding.ASCII.GetString(zip.ReadAllBytes(entry, 16)).Trim();
        return order switch
        {
            "little" => !BitConverter.IsLittleEndian,
            "big" => BitConverter.IsLittleEndian,
            _ => throw new InvalidInputException($"zip entry '{entry.Name}': unknown byte order '{order}'"),
        };
    }

    public void Dispose()
    {
        _zip = null;
        _owner?.Dispose();
    }
}
