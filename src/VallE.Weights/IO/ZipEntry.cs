namespace VallE.Weights.IO;

/// <summary>
/// One file of a zip archive, as the central directory describes it and its local header confirmed.
/// Sizes and offsets were checked against the file before this object existed.
/// </summary>
public sealed class ZipEntry
{
    public required string Name { get; init; }
    /// <summary>0 = stored, 8 = deflated (the only two methods accepted).</summary>
    public required ushort Method { get; init; }
    public required ushort Flags { get; init; }
    public required uint Crc32 { get; init; }
    public required long CompressedSize { get; init; }
    public required long UncompressedSize { get; init; }
    public required long LocalHeaderOffset { get; init; }
    /// <summary>File offset of the entry's (possibly compressed) bytes, just past its local header.</summary>
    public long DataOffset { get; internal set; }

    public bool IsStored => Method == ZipFormat.MethodStored;

    public override string ToString() => $"{Name} ({(IsStored ? "stored" : "deflated")}, {UncompressedSize} bytes at {DataOffset})";
}
