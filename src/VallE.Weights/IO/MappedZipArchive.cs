using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace VallE.Weights.IO;

/// <summary>
/// A read-only zip archive over a memory-mapped file: our own central-directory reader (ZIP64 included), so
/// that stored entries can be handed out as windows of the mapping without copying (PyTorch writes its tensor
/// storages stored and 64-byte aligned). Everything the file claims is checked before it is used:
/// the end records and central directory must lie inside the file, each local header must repeat its central
/// entry (name, method, sizes), entries must not overlap each other or the directory, names must be relative
/// and free of "..", and no size is trusted for an allocation until it was compared with the bytes present.
/// Messages name the offending entry; callers prefix the file path.
/// </summary>
public sealed unsafe class MappedZipArchive : IDisposable
{
    private readonly MappedFile _file;
    private readonly Dictionary<string, ZipEntry> _byName;

    public IReadOnlyList<ZipEntry> Entries { get; }
    public string Path => _file.Path;
    public long FileLength => _file.Length;

    private MappedZipArchive(MappedFile file, List<ZipEntry> entries)
    {
        _file = file;
        Entries = entries;
        _byName = new Dictionary<string, ZipEntry>(entries.Count, StringComparer.Ordinal);
        foreach (var e in entries)
            if (!_byName.TryAdd(e.Name, e)) throw new InvalidInputException($"zip entry '{e.Name}' appears twice");
    }

    /// <summary>Maps and indexes <paramref name="path"/>; <see cref="InvalidInputException"/> ("path: reason") for anything wrong.</summary>
    public static MappedZipArchive Open(string path)
    {
        var file = MappedFile.Open(path);
        try
        {
            return new MappedZipArchive(file, ZipDirectoryReader.Read(file));
        }
        catch (InvalidInputException e)
        {
            file.Dispose();
            throw new InvalidInputException(e.Message.StartsWith(path + ":", StringComparison.Ordinal) ? e.Message : $"{path}: {e.Message}", e);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public bool TryGetEntry(string name, out ZipEntry entry) => _byName.TryGetValue(name, out entry!);

    public ZipEntry GetEntry(string name) =>
        _byName.TryGetValue(name, out var e) ? e : throw new InvalidInputException($"zip entry '{name}' is missing");

    /// <summary>
    /// The whole content of <paramref name="entry"/> in managed memory, CRC-checked. Deflated entries are
    /// inflated; <paramref name="maxBytes"/> bounds what is allocated.
    /// </summary>
    public byte[] ReadAllBytes(ZipEntry entry, long maxBytes)
    {
        if (entry.UncompressedSize > maxBytes || entry.UncompressedSize > Array.MaxLength)
            throw new InvalidInputException($"zip entry '{entry.Name}' declares {entry.UncompressedSize} bytes, more than the {Math.Min(maxBytes, Array.MaxLength)} allowed");
        byte[] bytes;
        if (entry.IsStored)
        {
            bytes = new byte[entry.UncompressedSize]; // stored: the bytes are present in the file (checked at open)
            Bytes(entry.DataOffset, entry.CompressedSize).CopyTo(bytes);
        }
        else bytes = Inflate(entry);
        uint crc = Crc32.Compute(bytes);
        if (crc != entry.Crc32)
            throw new InvalidInputException($"zip entry '{entry.Name}': CRC-32 mismatch (stored {entry.Crc32:x8}, computed {crc:x8}); the file is corrupt");
        return bytes;
    }

    /// <summary>
    /// The content of <paramref name="entry"/> as a tensor storage: a zero-copy window of the mapping when stored,
    /// else inflated into managed memory (bounded by <paramref name="maxInflatedBytes"/>). Stored windows are not
    /// CRC-checked here (that would read every page of a multi-GB file); see <see cref="VerifyCrc"/>.
    /// </summary>
    public TensorStorage OpenStorage(ZipEntry entry, string key, DType dtype, long maxInflatedBytes)
    {
        if (entry.IsStored)
            return new NativeTensorStorage(key, dtype, _file, entry.DataOffset, entry.UncompressedSize);
        return new ArrayTensorStorage(key, dtype, ReadAllBytes(entry, maxInflatedBytes));
    }

    /// <summary>Recomputes the CRC-32 of a stored entry in place (reads every byte of it).</summary>
    public void VerifyCrc(ZipEntry entry)
    {
        if (!entry.IsStored) { ReadAllBytes(entry, long.MaxValue); return; }
        uint crc = 0;
        for (long done = 0; done < entry.CompressedSize;)
        {
            int n = (int)Math.Min(1 << 30, entry.CompressedSize - done);
            crc = Crc32.Append(crc, _file.Window(entry.DataOffset + done, n));
            done += n;
        }
        if (crc != entry.Crc32)
            throw new InvalidInputException($"zip entry '{entry.Name}': CRC-32 mismatch (stored {entry.Crc32:x8}, computed {crc:x8}); the file is corrupt");
    }

    private ReadOnlySpan<byte> Bytes(long offset, long count) => _file.Window(offset, checked((int)count));

    /// <summary>
    /// Inflates a deflated entry. The buffer grows with the output actually produced (doubling, up to the declared
    /// size), so a small entry that merely claims a huge size costs no more memory than it really inflates to.
    /// </summary>
    private byte[] Inflate(ZipEntry entry)
    {
        long declared = entry.UncompressedSize;
        var buffer = new byte[(int)Math.Min(declared, Math.Max(1 << 16, Math.Min(4 * entry.CompressedSize, 1 << 26)))];
        using var source = new UnmanagedMemoryStream(_file.Pointer + entry.DataOffset, entry.CompressedSize);
        using var inflater = new DeflateStream(source, CompressionMode.Decompress);
        long filled = 0;
        try
        {
            while (true)
            {
                if (filled == buffer.Length)
                {
                    if (filled == declared)
                    {
                        Span<byte> probe = stackalloc byte[1];
                        if (inflater.Read(probe) != 0) throw SizeMismatch(entry);
                        return buffer;
                    }
                    Array.Resize(ref buffer, (int)Math.Min(declared, 2L * buffer.Length));
                }
                int n = inflater.Read(buffer, (int)filled, buffer.Length - (int)filled);
                if (n == 0) throw SizeMismatch(entry);
                filled += n;
            }
        }
        catch (InvalidDataException e)
        {
            throw new InvalidInputException($"zip entry '{entry.Name}': corrupt deflate data ({e.Message})", e);
        }
    }

    private static InvalidInputException SizeMismatch(ZipEntry entry) =>
        new($"zip entry '{entry.Name}': inflated size does not match the declared {entry.UncompressedSize} bytes");

    public void Dispose() => _file.Dispose();
}

/// <summary>Parses and validates the end records and central directory of a mapped zip file.</summary>
internal static class ZipDirectoryReader
{
    public static List<ZipEntry> Read(MappedFile file)
    {
        long length = file.Length;
        long eocd = FindEndOfCentralDirectory(file);
        var end = file.Window(eocd, ZipFormat.EndOfCentralDirSize);
        ushort disk = BinaryPrimitives.ReadUInt16LittleEndian(end[4..]);
        ushort cdDisk = BinaryPrimitives.ReadUInt16LittleEndian(end[6..]);
        long count = BinaryPrimitives.ReadUInt16LittleEndian(end[10..]);
        long cdSize = BinaryPrimitives.ReadUInt32LittleEndian(end[12..]);
        long cdOffset = BinaryPrimitives.ReadUInt32LittleEndian(end[16..]);
        long directoryEnd = eocd; // the central directory must end before the end records

        // ZIP64: a locator right before the end record points at the 64-bit end record.
        long locator = eocd - ZipFormat.Zip64LocatorSize;
        if (locator >= 0 && BinaryPrimitives.ReadUInt32LittleEndian(file.Window(locator, 4)) == ZipFormat.Zip64LocatorSignature)
        {
            var loc = file.Window(locator, ZipFormat.Zip64LocatorSize);
            long record = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(loc[8..]), long.MaxValue);
            if (!file.Contains(record, ZipFormat.Zip64EndOfCentralDirSize) || record > locator - ZipFormat.Zip64EndOfCentralDirSize)
                throw new InvalidInputException($"ZIP64 end record offset {record} lies outside the file");
            var z = file.Window(record, ZipFormat.Zip64EndOfCentralDirSize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(z) != ZipFormat.Zip64EndOfCentralDirSignature)
                throw new InvalidInputException($"no ZIP64 end record at offset {record}");
            disk = (ushort)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(z[16..]), ushort.MaxValue);
            cdDisk = (ushort)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(z[20..]), ushort.MaxValue);
            count = ClampToLong(BinaryPrimitives.ReadUInt64LittleEndian(z[32..]));
            cdSize = ClampToLong(BinaryPrimitives.ReadUInt64LittleEndian(z[40..]));
            cdOffset = ClampToLong(BinaryPrimitives.ReadUInt64LittleEndian(z[48..]));
            directoryEnd = record;
        }
        if (disk != 0 || cdDisk != 0) throw new InvalidInputException("multi-disk zip archives are not supported");
        if (cdOffset > directoryEnd || cdSize > directoryEnd - cdOffset)
            throw new InvalidInputException($"central directory ({cdSize} bytes at offset {cdOffset}) runs past the end records at {directoryEnd} (truncated or corrupt zip)");
        // Every central entry takes at least 46 bytes: a larger count is a lie, and must not size any allocation.
        if (count > cdSize / ZipFormat.CentralHeaderSize)
            throw new InvalidInputException($"central directory claims {count} entries but holds at most {cdSize / ZipFormat.CentralHeaderSize}");

        // count <= cdSize / 46 fits in an int for any file below 90 GB; beyond that the list grows as entries prove real.
        var entries = new List<ZipEntry>((int)Math.Min(count, 1 << 16));
        long at = cdOffset;
        long cdEnd = cdOffset + cdSize;
        for (long i = 0; i < count; i++)
        {
            var entry = ReadCentralEntry(file, ref at, cdEnd, i);
            ResolveLocalHeader(file, entry, cdOffset);
            entries.Add(entry);
        }
        if (at != cdEnd)
            throw new InvalidInputException($"central directory size {cdSize} does not match its {count} entries ({at - cdOffset} bytes)");
        CheckNoOverlap(entries);
        return entries;
    }

    private static long ClampToLong(ulong v) => v > long.MaxValue ? long.MaxValue : (long)v;

    private static long FindEndOfCentralDirectory(MappedFile file)
    {
        long length = file.Length;
        if (length >= 4)
        {
            var head = file.Window(0, (int)Math.Min(length, 4));
            if (head[0] == 0x80 && head[1] <= 5)
                throw new InvalidInputException("not a zip archive: this looks like a legacy torch.save pickle (torch < 1.6 or _use_new_zipfile_serialization=False), which is not supported; re-save it with torch >= 1.6");
        }
        if (length < ZipFormat.EndOfCentralDirSize)
            throw new InvalidInputException($"not a zip archive ({length} bytes, too short)");
        long lowest = Math.Max(0, length - ZipFormat.EndOfCentralDirSize - ZipFormat.MaxCommentLength);
        int span = (int)(length - lowest);
        var tail = file.Window(lowest, span);
        // Scan backwards; accept only a record whose comment ends exactly at EOF (a signature inside the comment does not).
        for (int i = span - ZipFormat.EndOfCentralDirSize; i >= 0; i--)
        {
            if (tail[i] != 0x50 || BinaryPrimitives.ReadUInt32LittleEndian(tail[i..]) != ZipFormat.EndOfCentralDirSignature) continue;
            int comment = BinaryPrimitives.ReadUInt16LittleEndian(tail[(i + 20)..]);
            if (i + ZipFormat.EndOfCentralDirSize + comment == span) return lowest + i;
        }
        bool startsLikeZip = BinaryPrimitives.ReadUInt32LittleEndian(file.Window(0, 4)) == ZipFormat.LocalHeaderSignature;
        throw new InvalidInputException(startsLikeZip
            ? "truncated zip archive: no end-of-central-directory record"
            : "not a zip archive (no end-of-central-directory record)");
    }

    private static ZipEntry ReadCentralEntry(MappedFile file, ref long at, long cdEnd, long index)
    {
        if (cdEnd - at < ZipFormat.CentralHeaderSize)
            throw new InvalidInputException($"central directory entry {index} runs past the directory end");
        var h = file.Window(at, ZipFormat.CentralHeaderSize);
        if (BinaryPrimitives.ReadUInt32LittleEndian(h) != ZipFormat.CentralHeaderSignature)
            throw new InvalidInputException($"central directory entry {index}: bad signature at offset {at}");
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(h[8..]);
        ushort method = BinaryPrimitives.ReadUInt16LittleEndian(h[10..]);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(h[16..]);
        long csize = BinaryPrimitives.ReadUInt32LittleEndian(h[20..]);
        long usize = BinaryPrimitives.ReadUInt32LittleEndian(h[24..]);
        int nameLen = BinaryPrimitives.ReadUInt16LittleEndian(h[28..]);
        int extraLen = BinaryPrimitives.ReadUInt16LittleEndian(h[30..]);
        int commentLen = BinaryPrimitives.ReadUInt16LittleEndian(h[32..]);
        ushort diskStart = BinaryPrimitives.ReadUInt16LittleEndian(h[34..]);
        long local = BinaryPrimitives.ReadUInt32LittleEndian(h[42..]);
        long total = ZipFormat.CentralHeaderSize + nameLen + extraLen + commentLen;
        if (cdEnd - at < total)
            throw new InvalidInputException($"central directory entry {index} runs past the directory end");
        string name = DecodeName(file.Window(at + ZipFormat.CentralHeaderSize, nameLen), index);
        var extra = file.Window(at + ZipFormat.CentralHeaderSize + nameLen, extraLen);
        ApplyZip64Extra(extra, ref usize, ref csize, ref local, ref diskStart, name);
        at += total;

        if (diskStart != 0) throw new InvalidInputException($"zip entry '{name}' starts on another disk");
        if ((flags & ZipFormat.FlagEncrypted) != 0) throw new InvalidInputException($"zip entry '{name}' is encrypted");
        if (method != ZipFormat.MethodStored && method != ZipFormat.MethodDeflated)
            throw new InvalidInputException($"zip entry '{name}' uses compression method {method} (only stored and deflated are supported)");
        if (method == ZipFormat.MethodStored && csize != usize)
            throw new InvalidInputException($"zip entry '{name}' is stored but its sizes differ ({csize} vs {usize})");
        // Written as a division and subtraction: ZIP64 sizes may be near long.MaxValue, where csize + 1 would wrap.
        if (method == ZipFormat.MethodDeflated && usize / ZipFormat.MaxDeflateRatio - 1 > csize)
            throw new InvalidInputException($"zip entry '{name}' claims {usize} bytes from {csize} compressed bytes, more than deflate can produce");
        CheckSafeName(name);
        return new ZipEntry
        {
            Name = name, Method = method, Flags = flags, Crc32 = crc,
            CompressedSize = csize, UncompressedSize = usize, LocalHeaderOffset = local,
        };
    }

    /// <summary>ZIP64 extended information: 64-bit values replace the 32-bit fields that hold 0xFFFFFFFF, in this order.</summary>
    private static void ApplyZip64Extra(ReadOnlySpan<byte> extra, ref long usize, ref long csize, ref long local, ref ushort disk, string name)
    {
        while (extra.Length >= 4)
        {
            ushort id = BinaryPrimitives.ReadUInt16LittleEndian(extra);
            int size = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
            if (size > extra.Length - 4) throw new InvalidInputException($"zip entry '{name}': extra field runs past its header");
            var data = extra.Slice(4, size);
            if (id == ZipFormat.Zip64ExtraId)
            {
                int p = 0;
                if (usize == uint.MaxValue && !TakeUInt64(data, ref p, out usize)) throw Short();
                if (csize == uint.MaxValue && !TakeUInt64(data, ref p, out csize)) throw Short();
                if (local == uint.MaxValue && !TakeUInt64(data, ref p, out local)) throw Short();
                if (disk == ushort.MaxValue)
                {
                    if (p + 4 > data.Length) throw Short();
                    disk = (ushort)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(data[p..]), ushort.MaxValue);
                }
            }
            extra = extra[(4 + size)..];
        }
        InvalidInputException Short() => new($"zip entry '{name}': ZIP64 extra field is too short");
    }

    private static bool TakeUInt64(ReadOnlySpan<byte> data, ref int p, out long value)
    {
        value = 0;
        if (p + 8 > data.Length) return false;
        value = ClampToLong(BinaryPrimitives.ReadUInt64LittleEndian(data[p..]));
        p += 8;
        return true;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    private static string DecodeName(ReadOnlySpan<byte> raw, long index)
    {
        try
        {
            return StrictUtf8.GetString(raw);
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidInputException($"central directory entry {index}: name is not valid UTF-8");
        }
    }

    /// <summary>Relative, forward-slash names without "." / ".." segments, control characters or drive letters.</summary>
    private static void CheckSafeName(string name)
    {
        bool bad = name.Length == 0 || name[0] == '/' || name.Contains('\\') || (name.Length >= 2 && name[1] == ':');
        if (!bad)
        {
            foreach (char c in name) if (char.IsControl(c)) { bad = true; break; }
        }
        if (!bad)
        {
            var parts = name.Split('/');
            for (int i = 0; i < parts.Length; i++)
            {
                bool last = i == parts.Length - 1;
                if (parts[i] is "." or ".." || (parts[i].Length == 0 && !last)) { bad = true; break; }
            }
        }
        if (bad)
            throw new InvalidInputException($"zip entry '{Printable(name)}': unsafe name (absolute, '..', backslash or control characters)");
    }

    private static string Printable(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s) sb.Append(char.IsControl(c) ? $"\\x{(int)c:x2}" : c);
        return sb.ToString();
    }

    /// <summary>The local header must exist, lie before the directory and repeat the central entry.</summary>
    private static void ResolveLocalHeader(MappedFile file, ZipEntry entry, long cdOffset)
    {
        long at = entry.LocalHeaderOffset;
        if (at > cdOffset || cdOffset - at < ZipFormat.LocalHeaderSize)
            throw new InvalidInputException($"zip entry '{entry.Name}': local header offset {at} lies outside the entry area (central directory at {cdOffset})");
        var h = file.Window(at, ZipFormat.LocalHeaderSize);
        if (BinaryPrimitives.ReadUInt32LittleEndian(h) != ZipFormat.LocalHeaderSignature)
            throw new InvalidInputException($"zip entry '{entry.Name}': no local header at offset {at}");
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(h[6..]);
        ushort method = BinaryPrimitives.ReadUInt16LittleEndian(h[8..]);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(h[14..]);
        uint csize = BinaryPrimitives.ReadUInt32LittleEndian(h[18..]);
        uint usize = BinaryPrimitives.ReadUInt32LittleEndian(h[22..]);
        int nameLen = BinaryPrimitives.ReadUInt16LittleEndian(h[26..]);
        int extraLen = BinaryPrimitives.ReadUInt16LittleEndian(h[28..]);
        long dataOffset = at + ZipFormat.LocalHeaderSize + nameLen + extraLen;
        if (dataOffset > cdOffset)
            throw new InvalidInputException($"zip entry '{entry.Name}': local header runs into the central directory");
        var localName = file.Window(at + ZipFormat.LocalHeaderSize, nameLen);
        if (!localName.SequenceEqual(Encoding.UTF8.GetBytes(entry.Name)))
            throw new InvalidInputException($"zip entry '{entry.Name}': local header names '{Encoding.UTF8.GetString(localName)}' instead (central directory and local header disagree)");
        if (method != entry.Method)
            throw new InvalidInputException($"zip entry '{entry.Name}': local header says method {method}, central directory {entry.Method}");
        // Without a data descriptor the local header must repeat CRC and sizes (0xFFFFFFFF defers to ZIP64 fields).
        if ((flags & ZipFormat.FlagDataDescriptor) == 0 && (entry.Flags & ZipFormat.FlagDataDescriptor) == 0)
        {
            if (crc != entry.Crc32
                || (csize != uint.MaxValue && csize != entry.CompressedSize)
                || (usize != uint.MaxValue && usize != entry.UncompressedSize))
                throw new InvalidInputException($"zip entry '{entry.Name}': local header CRC/sizes disagree with the central directory");
        }
        if (entry.CompressedSize > cdOffset - dataOffset)
            throw new InvalidInputException($"zip entry '{entry.Name}': {entry.CompressedSize} bytes at offset {dataOffset} run past the entry area (central directory at {cdOffset}, file {file.Length} bytes)");
        entry.DataOffset = dataOffset;
    }

    private static void CheckNoOverlap(List<ZipEntry> entries)
    {
        var sorted = entries.OrderBy(e => e.LocalHeaderOffset).ToArray();
        for (int i = 1; i < sorted.Length; i++)
        {
            var prev = sorted[i - 1];
            long prevEnd = prev.DataOffset + prev.CompressedSize;
            if (prevEnd > sorted[i].LocalHeaderOffset)
                throw new InvalidInputException($"zip entries '{prev.Name}' and '{sorted[i].Name}' overlap");
        }
    }
}
