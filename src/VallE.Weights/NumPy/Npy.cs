using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using VallE.Weights.IO;

namespace VallE.Weights.NumPy;

/// <summary>
/// Reader and writer for NumPy's <c>.npy</c> format (versions 1-3) and reader for <c>.npz</c> archives.
/// The header is parsed as data (a tiny literal grammar), never evaluated. Fortran-ordered arrays are
/// transposed to C order on read. Sizes are checked against the bytes actually present before allocating.
/// </summary>
public static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private const int MaxHeaderLength = 1 << 16;

    public static NpyArray Read(string path)
    {
        if (Directory.Exists(path)) throw new InvalidInputException($"{path}: is a directory, expected a .npy file");
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: file not found");
        using var fs = File.OpenRead(path);
        try
        {
            return Read(fs, fs.Length);
        }
        catch (InvalidInputException e)
        {
            throw new InvalidInputException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Reads one array from <paramref name="stream"/>, which holds <paramref name="length"/> bytes from its position.</summary>
    public static NpyArray Read(Stream stream, long length)
    {
        Span<byte> pre = stackalloc byte[10];
        if (length < 10 || !TryReadExactly(stream, pre))
            throw new InvalidInputException("not a .npy file (too short)");
        if (!pre[..6].SequenceEqual(Magic))
            throw new InvalidInputException("not a .npy file (bad magic)");
        int major = pre[6];
        long headerLen;
        int prefix;
        if (major == 1)
        {
            headerLen = BinaryPrimitives.ReadUInt16LittleEndian(pre[8..]);
            prefix = 10;
        }
        else if (major is 2 or 3)
        {
            Span<byte> extra = stackalloc byte[2];
            if (!TryReadExactly(stream, extra)) throw new InvalidInputException("truncated .npy header");
            headerLen = BinaryPrimitives.ReadUInt32LittleEndian([pre[8], pre[9], extra[0], extra[1]]);
            prefix = 12;
        }
        else throw new InvalidInputException($"unsupported .npy version {major}.{pre[7]}");

        if (headerLen > MaxHeaderLength || prefix + headerLen > length)
            throw new InvalidInputException($".npy header length {headerLen} exceeds the file");
        var headerBytes = new byte[headerLen];
        if (!TryReadExactly(stream, headerBytes)) throw new InvalidInputException("truncated .npy header");
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);

        var (type, fortran, shape) = ParseHeader(header);
        // Checked, and compared with the bytes really present before anything is allocated.
        long bytes = Shapes.ByteCount(shape, NpyArray.ItemSize(type), "header shape");
        long available = length - prefix - headerLen;
        if (bytes != available)
            throw new InvalidInputException($"header shape {Shapes.Format(shape)} needs {bytes} data bytes, file holds {available}");
        if (bytes > Array.MaxLength)
            throw new InvalidInputException($"array of {bytes} bytes is too large (at most {Array.MaxLength} bytes are supported)");
        // Only an empty array can get here with a dimension this large; refusing it keeps every consumer's
        // (int) cast of a dimension safe.
        if (shape.Any(d => d > Array.MaxLength))
            throw new InvalidInputException($"header shape {Shapes.Format(shape)} has a dimension over {Array.MaxLength}");
        var data = new byte[bytes];
        if (!TryReadExactly(stream, data)) throw new InvalidInputException("truncated .npy data");
        if (fortran && shape.Length > 1) data = FortranToC(data, shape, NpyArray.ItemSize(type));
        return new NpyArray(type, shape, data);
    }

    /// <summary>Reads every <c>.npy</c> member of an <c>.npz</c> archive (stored or deflated), keyed by name without extension.</summary>
    public static Dictionary<string, NpyArray> ReadNpz(string path)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: file not found");
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var result = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                try
                {
                    using var ms = Inflate(entry);
                    result[entry.FullName[..^4]] = Read(ms, ms.Length);
                }
                catch (InvalidInputException e) { throw new InvalidInputException($"{entry.FullName}: {e.Message}", e); }
            }
            return result;
        }
        catch (InvalidDataException e)
        {
            throw new InvalidInputException($"{path}: not a valid .npz archive ({e.Message})", e);
        }
        catch (InvalidInputException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new InvalidInputException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// The bytes of one archive member, never more than it declares: the declared size only bounds the copy (the
    /// buffer grows with what really inflates), so a small archive claiming a huge member costs nothing.
    /// </summary>
    private static MemoryStream Inflate(ZipArchiveEntry entry)
    {
        long declared = entry.Length;
        if (declared > Array.MaxLength)
            throw new InvalidInputException($"member declares {declared} bytes, more than the {Array.MaxLength} supported");
        using var source = entry.Open();
        var ms = new MemoryStream();
        var buffer = new byte[1 << 16];
        int n;
        while ((n = source.Read(buffer, 0, (int)Math.Min(buffer.Length, declared + 1 - ms.Length))) > 0)
        {
            ms.Write(buffer, 0, n);
            if (ms.Length > declared) throw new InvalidInputException($"member inflates to more than its declared {declared} bytes");
        }
        ms.Position = 0;
        return ms;
    }

    /// <summary>Writes a version 1.0 <c>.npy</c> file atomically (temp file + rename).</summary>
    public static void Write(string path, NpyArray array) => AtomicFile.Write(path, s => Write(s, array));

    public static void Write(Stream stream, NpyArray array)
    {
        string descr = array.Type switch
        {
            NpyType.Bool => "|b1", NpyType.Int8 => "|i1", NpyType.UInt8 => "|u1", NpyType.Int16 => "<i2",
            NpyType.Int32 => "<i4", NpyType.Int64 => "<i8", NpyType.Float16 => "<f2", NpyType.Float32 => "<f4",
            _ => "<f8",
        };
        string shape = array.Shape.Length == 1
            ? $"({array.Shape[0]},)"
            : "(" + string.Join(", ", array.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")";
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        // Pad with spaces so that magic + length + header + '\n' is a multiple of 64 (NumPy's alignment).
        int total = 10 + dict.Length + 1;
        int pad = (64 - total % 64) % 64;
        string header = dict + new string(' ', pad) + "\n";
        Span<byte> pre = stackalloc byte[10];
        Magic.CopyTo(pre);
        pre[6] = 1;
        pre[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(pre[8..], checked((ushort)header.Length));
        stream.Write(pre);
        stream.Write(Encoding.Latin1.GetBytes(header));
        stream.Write(array.Data);
    }

    public static void WriteInt64(string path, ReadOnlySpan<long> values, params long[] shape) =>
        Write(path, NpyArray.FromInt64(values, shape));

    public static void WriteFloat32(string path, ReadOnlySpan<float> values, params long[] shape) =>
        Write(path, NpyArray.FromFloat32(values, shape));

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrRegex();
    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranRegex();
    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();

    private static (NpyType, bool, long[]) ParseHeader(string header)
    {
        var d = DescrRegex().Match(header);
        var f = FortranRegex().Match(header);
        var s = ShapeRegex().Match(header);
        if (!d.Success || !f.Success || !s.Success)
            throw new InvalidInputException("malformed .npy header");
        NpyType type = d.Groups[1].Value switch
        {
            "|b1" => NpyType.Bool, "|i1" => NpyType.Int8, "|u1" => NpyType.UInt8,
            "<i2" => NpyType.Int16, "<i4" => NpyType.Int32, "<i8" => NpyType.Int64,
            "<f2" => NpyType.Float16, "<f4" => NpyType.Float32, "<f8" => NpyType.Float64,
            var other => throw new InvalidInputException($"unsupported .npy dtype '{other}' (expected little-endian bool/int/float)"),
        };
        var dims = new List<long>();
        foreach (var part in s.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!long.TryParse(part.TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out long dim))
                throw new InvalidInputException($"malformed .npy shape '{s.Groups[1].Value}'");
            dims.Add(dim);
        }
        if (dims.Count > 32) throw new InvalidInputException("too many dimensions");
        return (type, f.Groups[1].Value == "True", dims.ToArray());
    }

    private static byte[] FortranToC(byte[] src, long[] shape, int itemSize)
    {
        var dst = new byte[src.Length];
        int rank = shape.Length;
        long count = src.LongLength / itemSize;
        var idx = new long[rank];
        for (long c = 0; c < count; c++)
        {
            // c walks C order; compute the Fortran offset of the same multi-index.
            long f = 0, stride = 1;
            for (int k = 0; k < rank; k++) { f += idx[k] * stride; stride *= shape[k]; }
            Buffer.BlockCopy(src, (int)(f * itemSize), dst, (int)(c * itemSize), itemSize);
            for (int k = rank - 1; k >= 0; k--)
            {
                if (++idx[k] < shape[k]) break;
                idx[k] = 0;
            }
        }
        return dst;
    }

    private static bool TryReadExactly(Stream s, Span<byte> buffer)
    {
        try { s.ReadExactly(buffer); return true; }
        catch (EndOfStreamException) { return false; }
    }
}
