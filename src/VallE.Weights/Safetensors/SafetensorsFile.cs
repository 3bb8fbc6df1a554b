using System.Buffers.Binary;
using System.Text.Json;
using VallE.Weights.IO;

namespace VallE.Weights.Safetensors;

/// <summary>
/// A <c>.safetensors</c> file opened read-only and memory-mapped. Layout: an 8-byte little-endian header length
/// N, N bytes of JSON (<c>{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}</c>),
/// then the data region that the offsets index. Everything in the header is checked before any tensor is made:
/// a corrupt or hostile file yields an <see cref="InvalidInputException"/> naming the offending tensor, never an
/// out-of-bounds read. Tensors stay valid until this object is disposed.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    /// <summary>Headers larger than this are refused: real ones are a few hundred KB even for huge models.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public const string MetadataKey = "__metadata__";

    private readonly MappedFile _file;

    public string Path { get; }
    /// <summary>Tensors in header order.</summary>
    public IReadOnlyList<TensorData> Tensors { get; }
    public IReadOnlyDictionary<string, TensorData> ByName { get; }
    /// <summary>The string-to-string <c>__metadata__</c> map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    private SafetensorsFile(string path, MappedFile file, List<TensorData> tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        _file = file;
        Tensors = tensors;
        ByName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        Metadata = metadata;
    }

    public static SafetensorsFile Open(string path)
    {
        var file = MappedFile.Open(path);
        try
        {
            var (entries, metadata, dataStart) = ReadHeader(file, path);
            long dataLength = file.Length - dataStart;
            CheckRanges(entries, dataLength, path);
            var tensors = new List<TensorData>(entries.Count);
            foreach (var e in entries)
            {
                long length = e.End - e.Begin;
                var storage = new NativeTensorStorage($"bytes {e.Begin}..{e.End}", e.DType,
                    file, dataStart + e.Begin, length);
                tensors.Add(new TensorData(e.Name, e.DType, e.Shape, ContiguousStrides(e.Shape), 0, storage));
            }
            return new SafetensorsFile(path, file, tensors, metadata);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// C-order strides (in elements) of a dense tensor of <paramref name="shape"/>. Cannot overflow for a shape that
    /// passed <see cref="Shapes.ByteCount"/> (the product of its non-zero dimensions fits).
    /// </summary>
    public static long[] ContiguousStrides(long[] shape)
    {
        var strides = new long[shape.Length];
        long s = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= Math.Max(shape[i], 1);
        }
        return strides;
    }

    private sealed record Entry(string Name, DType DType, long[] Shape, long Begin, long End);

    private static (List<Entry>, Dictionary<string, string>, long) ReadHeader(MappedFile file, string path)
    {
        string where = System.IO.Path.GetFileName(path);
        if (file.Length < 8)
            throw new InvalidInputException($"{where}: not a safetensors file ({file.Length} bytes, shorter than the 8-byte header length)");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file.Window(0, 8));
        if (headerLength > MaxHeaderBytes)
            throw new InvalidInputException($"{where}: safetensors header length {headerLength} is absurd (limit {MaxHeaderBytes} bytes)");
        if ((long)headerLength > file.Length - 8)
            throw new InvalidInputException($"{where}: safetensors header length {headerLength} runs past the end of the file ({file.Length} bytes)");

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(file.Window(8, (int)headerLength).ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"{where}: safetensors header is not valid JSON: {e.Message}", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidInputException($"{where}: safetensors header is a JSON {doc.RootElement.ValueKind}, expected an object");
            var entries = new List<Entry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw new InvalidInputException($"{where}: tensor '{property.Name}' appears twice in the safetensors header");
                if (property.Name == MetadataKey)
                {
                    ReadMetadata(property.Value, metadata, where);
                    continue;
                }
                entries.Add(ReadEntry(property.Name, property.Value, where));
            }
            return (entries, metadata, 8 + (long)headerLength);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string where)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new InvalidInputException($"{where}: safetensors {MetadataKey} is not an object");
        foreach (var p in value.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
                throw new InvalidInputException($"{where}: safetensors {MetadataKey} entry '{p.Name}' is not a string");
            metadata[p.Name] = p.Value.GetString()!;
        }
    }

    private static Entry ReadEntry(string name, JsonElement value, string where)
    {
        string Bad(string what) => $"{where}: tensor '{name}': {what}";
        if (value.ValueKind != JsonValueKind.Object) throw new InvalidInputException(Bad("header entry is not an object"));
        if (!value.TryGetProperty("dtype", out var dtypeEl) || dtypeEl.ValueKind != JsonValueKind.String)
            throw new InvalidInputException(Bad("missing string 'dtype'"));
        string dtypeName = dtypeEl.GetString()!;
        if (!TryParseDType(dtypeName, out DType dtype))
            throw new InvalidInputException(Bad($"unsupported dtype '{dtypeName}' (supported: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL)"));
        long[] shape = ReadLongs(value, "shape", -1, Bad);
        long[] offsets = ReadLongs(value, "data_offsets", 2, Bad);
        if (offsets[1] < offsets[0])
            throw new InvalidInputException(Bad($"data_offsets [{offsets[0]}, {offsets[1]}] end before they begin"));
        long expected = Shapes.ByteCount(shape, dtype.SizeOf(), Bad("shape"));
        if (expected != offsets[1] - offsets[0])
            throw new InvalidInputException(Bad(
                $"shape [{string.Join(", ", shape)}] of {dtypeName} needs {expected} bytes but data_offsets [{offsets[0]}, {offsets[1]}] hold {offsets[1] - offsets[0]}"));
        return new Entry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] ReadLongs(JsonElement value, string key, int requiredCount, Func<string, string> bad)
    {
        if (!value.TryGetProperty(key, out var el) || el.ValueKind != JsonValueKind.Array)
            throw new InvalidInputException(bad($"missing array '{key}'"));
        int n = el.GetArrayLength();
        if (requiredCount >= 0 && n != requiredCount)
            throw new InvalidInputException(bad($"'{key}' has {n} entries, expected {requiredCount}"));
        if (n > 64) throw new InvalidInputException(bad($"'{key}' has {n} dimensions"));
        var result = new long[n];
        int i = 0;
        foreach (var item in el.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long v) || v < 0)
                throw new InvalidInputException(bad($"'{key}' entry {i} ({item.GetRawText()}) is not a non-negative integer"));
            result[i++] = v;
        }
        return result;
    }

    private static void CheckRanges(List<Entry> entries, long dataLength, string path)
    {
        string where = System.IO.Path.GetFileName(path);
        foreach (var e in entries)
        {
            if (e.End > dataLength)
                throw new InvalidInputException(
                    $"{where}: tensor '{e.Name}': data_offsets [{e.Begin}, {e.End}] lie outside the data region of {dataLength} bytes");
        }
        // Sorted by start, any overlap shows up between a range and the furthest-reaching range before it.
        Entry? reach = null;
        foreach (var e in entries.Where(e => e.End > e.Begin).OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (reach is not null && e.Begin < reach.End)
                throw new InvalidInputException(
                    $"{where}: tensors '{reach.Name}' [{reach.Begin}, {reach.End}] and '{e.Name}' [{e.Begin}, {e.End}] overlap");
            if (reach is null || e.End > reach.End) reach = e;
        }
    }

    public static bool TryParseDType(string name, out DType dtype)
    {
        foreach (DType candidate in Enum.GetValues<DType>())
        {
            if (candidate.SafetensorsName() == name)
            {
                dtype = candidate;
                return true;
            }
        }
        dtype = default;
        return false;
    }

    public void Dispose() => _file.Dispose();
}
