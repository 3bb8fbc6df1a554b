using System.Buffers.Binary;
using System.Text.Json;
using VallE.Weights.IO;

namespace VallE.Weights.Safetensors;

/// <summary>
/// Writes a <c>.safetensors</c> file through <see cref="AtomicFile"/> (nothing half-written is ever visible).
/// Tensors are laid out by element size, largest first, so every tensor starts aligned to its element size
/// without padding holes (other readers reject holes); the header is space-padded to 8 bytes.
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>One tensor to write: its name, its data, and the dtype to store it as.</summary>
    public sealed record Item(string Name, TensorData Tensor, DType DType);

    /// <param name="cancellation">checked before each tensor; a cancelled write leaves no file behind.</param>
    public static void Write(string path, IReadOnlyList<Item> items, IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellation = default)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            if (item.Name == SafetensorsFile.MetadataKey || !names.Add(item.Name))
                throw new ArgumentException($"tensor name '{item.Name}' is reserved or given twice", nameof(items));
        }
        // Stable: equal sizes keep the caller's order.
        var ordered = items.Select((item, i) => (item, i))
            .OrderByDescending(x => x.item.DType.SizeOf()).ThenBy(x => x.i).Select(x => x.item).ToList();
        byte[] header = BuildHeader(ordered, metadata);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var item in ordered)
            {
                cancellation.ThrowIfCancellationRequested();
                TensorBytes.WriteTo(stream, item.Tensor, item.DType);
            }
        });
    }

    private static byte[] BuildHeader(List<Item> ordered, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(SafetensorsFile.MetadataKey);
                foreach (var (k, v) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var item in ordered)
            {
                long bytes = item.Tensor.ElementCount * item.DType.SizeOf();
                json.WriteStartObject(item.Name);
                json.WriteString("dtype", item.DType.SafetensorsName());
                json.WriteStartArray("shape");
                foreach (long d in item.Tensor.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        int pad = (int)((8 - buffer.Length % 8) % 8);
        for (int i = 0; i < pad; i++) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }
}
