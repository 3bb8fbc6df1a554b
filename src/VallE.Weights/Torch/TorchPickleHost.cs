using VallE.Weights.IO;
using VallE.Weights.Pickle;

namespace VallE.Weights.Torch;

/// <summary>
/// Interprets the globals and persistent ids of a torch zip checkpoint's <c>data.pkl</c>:
/// persistent ids <c>('storage', torch.FloatStorage, key, location, numel)</c> become one
/// <see cref="TensorStorage"/> per key (a window of the mapped zip entry <c>data/key</c>), and
/// <c>torch._utils._rebuild_tensor_v2 / _v3 / _rebuild_tensor / _rebuild_parameter(_with_state)</c> and
/// <c>torch._tensor._rebuild_from_type_v2</c> become views over them. Everything else falls to
/// <see cref="PickleHost"/> (standard containers, else inert).
/// </summary>
internal sealed class TorchPickleHost : PickleHost
{
    /// <summary>Storages that are not stored in place (deflated, or byte-swapped) are copied; this bounds each copy.</summary>
    public const long MaxCopiedStorageBytes = 1L << 31;

    /// <summary>Most elements a view may have when it holds more than its storage (stride 0, overlapping strides).</summary>
    public const long MaxRepeatedViewElements = 1L << 28;

    private readonly MappedZipArchive _zip;
    private readonly string _prefix;
    private readonly bool _bigEndian;
    private readonly Dictionary<string, TensorStorage> _storages = new(StringComparer.Ordinal);

    public TorchPickleHost(MappedZipArchive zip, string archivePrefix, bool bigEndian)
    {
        _zip = zip;
        _prefix = archivePrefix;
        _bigEndian = bigEndian;
    }

    public IReadOnlyCollection<TensorStorage> Storages => _storages.Values;

    public override object? PersistentLoad(object? pid)
    {
        if (pid is not PyTuple { Count: 5 } t || t[0] is not "storage")
            throw new InvalidInputException($"{Source}: unsupported persistent id {PyRepr.Of(pid)} (expected ('storage', type, key, location, numel))");
        if (t[1] is not PyInert { Args: null } type || !TorchTypes.TryStorageDType(type.Module, type.Name, out var dtype))
            throw new InvalidInputException($"{Source}: unsupported storage type {PyRepr.Of(t[1])}");
        if (t[2] is not string key || key.Length == 0 || key.Length > 64 || !key.All(char.IsAsciiLetterOrDigit))
            throw new InvalidInputException($"{Source}: bad storage key {PyRepr.Of(t[2])}");
        if (t[4] is not long numel || numel < 0)
            throw new InvalidInputException($"{Source}: storage '{key}' has a bad element count {PyRepr.Of(t[4])}");
        string entryName = $"{_prefix}data/{key}";
        if (_storages.TryGetValue(key, out var existing))
        {
            // Torch writes one persistent id per distinct storage; the same key again must describe the same bytes.
            if (existing.DType != dtype || existing.ByteLength / dtype.SizeOf() != numel)
                throw new InvalidInputException($"{Source}: storage '{key}' is referenced as both {existing.DType.ShortName()} and {dtype.ShortName()}[{numel}]");
            return existing;
        }
        if (!_zip.TryGetEntry(entryName, out var entry))
            throw new InvalidInputException($"{Source}: persistent id names storage '{key}' but the archive has no entry '{entryName}'");
        long expected;
        try { expected = checked(numel * dtype.SizeOf()); }
        catch (OverflowException) { throw new InvalidInputException($"{Source}: storage '{key}': element count {numel} overflows"); }
        if (expected != entry.UncompressedSize)
            throw new InvalidInputException(
                $"zip entry '{entryName}': storage declares {numel} {dtype.ShortName()} elements ({expected} bytes) but the entry holds {entry.UncompressedSize} bytes");
        string storageKey = $"data/{key}";
        TensorStorage storage = _bigEndian
            ? new ArrayTensorStorage(storageKey, dtype, ByteSwapped(_zip.ReadAllBytes(entry, MaxCopiedStorageBytes), dtype.SizeOf()))
            : _zip.OpenStorage(entry, storageKey, dtype, MaxCopiedStorageBytes);
        _storages[key] = storage;
        return storage;
    }

    private static byte[] ByteSwapped(byte[] bytes, int size)
    {
        if (size > 1)
            for (int i = 0; i + size <= bytes.Length; i += size) Array.Reverse(bytes, i, size);
        return bytes;
    }

    public override object? Call(PyInert callable, PyTuple args)
    {
        switch (callable.QualifiedName)
        {
            case "torch._utils._rebuild_tensor_v2": // (storage, offset, size, stride, requires_grad, hooks[, metadata])
                Arity(callable, args, 6, 7);
                return Rebuild(callable, args, null);
            case "torch._utils._rebuild_tensor": // (storage, offset, size, stride)
                Arity(callable, args, 4, 4);
                return Rebuild(callable, args, null);
            case "torch._utils._rebuild_tensor_v3": // (storage, offset, size, stride, requires_grad, hooks, dtype[, metadata])
                Arity(callable, args, 7, 8);
                if (args[6] is not PyInert { Args: null } dt || !TorchTypes.TryDType(dt.Module, dt.Name, out var dtype))
                    throw new InvalidInputException($"{Source}: {callable.Name}: unsupported dtype {PyRepr.Of(args[6])}");
                return Rebuild(callable, args, dtype);
            case "torch._utils._rebuild_parameter": // (data, requires_grad, hooks)
            case "torch._utils._rebuild_parameter_with_state": // (data, requires_grad, hooks, state)
                Arity(callable, args, 3, 4);
                return args[0] is PendingTensor p ? p : throw new InvalidInputException($"{Source}: {callable.Name} expects a tensor, got {PyRepr.Of(args[0])}");
            case "torch._tensor._rebuild_from_type_v2": // (func, type, args, state): a Tensor (subclass) rebuilt by func(*args)
                Arity(callable, args, 4, 4);
                if (args[0] is not PyInert { Args: null } func || args[2] is not PyTuple inner)
                    throw new InvalidInputException($"{Source}: {callable.Name}: malformed arguments {args}");
                return Call(func, inner);
        }
        return base.Call(callable, args);
    }

    private void Arity(PyInert callable, PyTuple args, int min, int max)
    {
        if (args.Count < min || args.Count > max)
            throw new InvalidInputException($"{Source}: {callable.Name} takes {min}{(max > min ? $"-{max}" : "")} arguments, got {args.Count}");
    }

    private PendingTensor Rebuild(PyInert callable, PyTuple args, DType? dtype)
    {
        if (args[0] is not TensorStorage storage)
            throw new InvalidInputException($"{Source}: {callable.Name} expects a storage, got {PyRepr.Of(args[0])}");
        if (args[1] is not long offset)
            throw new InvalidInputException($"{Source}: {callable.Name}: storage offset {PyRepr.Of(args[1])} is not an integer");
        long[] shape = Longs(args[2], callable, "size");
        long[] strides = Longs(args[3], callable, "stride");
        if (shape.Length != strides.Length)
            throw new InvalidInputException($"{Source}: {callable.Name}: size {args[2]} and stride {args[3]} differ in rank");
        return new PendingTensor(storage, dtype ?? storage.DType, offset, shape, strides);
    }

    private long[] Longs(object? value, PyInert callable, string what)
    {
        IReadOnlyList<object?> items = value switch
        {
            PyTuple t => t.Items,
            PyList l => l,
            PyInert { QualifiedName: "torch.Size", Args: PyTuple { Count: 1 } a } when a[0] is PyTuple inner => inner.Items,
            _ => throw new InvalidInputException($"{Source}: {callable.Name}: {what} {PyRepr.Of(value)} is not a tuple"),
        };
        if (items.Count > 64) throw new InvalidInputException($"{Source}: {callable.Name}: {what} has {items.Count} dimensions");
        var result = new long[items.Count];
        for (int i = 0; i < result.Length; i++)
            result[i] = items[i] is long v ? v : throw new InvalidInputException($"{Source}: {callable.Name}: {what} {PyRepr.Of(value)} holds a non-integer");
        return result;
    }

    /// <summary>Turns a pending tensor into a validated <see cref="TensorData"/> named by its dict key (else its path).</summary>
    public object? Materialize(object? value, string path, string? key)
    {
        if (value is not PendingTensor p) return value;
        try
        {
            var t = new TensorData(key ?? path, p.DType, p.Shape, p.Strides, p.Offset, p.Storage);
            // A view lying inside its storage can still name more elements than the storage holds, by repeating
            // them (stride 0 from expand(), overlapping strides). Real ones are small; a hostile one would make every
            // consumer that copies it allocate terabytes.
            long storageElements = p.Storage.ByteLength / p.DType.SizeOf();
            if (t.ElementCount > storageElements && t.ElementCount > MaxRepeatedViewElements)
                throw new InvalidInputException(
                    $"tensor '{t.Name}': view of {t.ElementCount} elements repeats its {storageElements}-element storage '{p.Storage.Key}' (more than {MaxRepeatedViewElements} elements)");
            return t;
        }
        catch (InvalidInputException e) when (key is not null)
        {
            throw new InvalidInputException($"{Source}: {path}: {e.Message}", e);
        }
        catch (InvalidInputException e)
        {
            throw new InvalidInputException($"{Source}: {e.Message}", e);
        }
    }
}
