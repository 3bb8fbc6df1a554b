using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using VallE.Weights.IO;

namespace VallE.Tests.Zip;

/// <summary>
/// Builds zip files byte by byte for tests (stored or deflated entries, optional ZIP64 records, torch-style
/// 64-byte alignment) and records where each structure landed, so a test can then corrupt exactly one field.
/// </summary>
internal sealed class TestZip
{
    private readonly List<(string Name, byte[] Data, bool Deflate)> _entries = [];

    /// <summary>Write ZIP64 end records and 0xFFFFFFFF + extra-field sizes for every entry (as torch does past 4 GB).</summary>
    public bool Zip64 { get; init; }

    public TestZip Add(string name, byte[] data, bool deflate = false)
    {
        _entries.Add((name, data, deflate));
        return this;
    }

    public TestZip Add(string name, string text) => Add(name, Encoding.UTF8.GetBytes(text));

    public sealed class Image
    {
        public required byte[] Bytes;
        public required int[] LocalHeaders;
        public required int[] CentralHeaders;
        public required int CentralDirectory;
        public required int EndRecord;

        // Central header field offsets (APPNOTE 4.3.12)
        public void PatchCentralU32(int entry, int field, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(CentralHeaders[entry] + field), value);
        public void PatchCentralU16(int entry, int field, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Bytes.AsSpan(CentralHeaders[entry] + field), value);
        public void PatchLocalU32(int entry, int field, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(LocalHeaders[entry] + field), value);
        public void PatchLocalU16(int entry, int field, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Bytes.AsSpan(LocalHeaders[entry] + field), value);
        public void PatchEndU32(int field, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(EndRecord + field), value);
        public void PatchEndU16(int field, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Bytes.AsSpan(EndRecord + field), value);
    }

    public const int CentralCompressedSize = 20, CentralUncompressedSize = 24, CentralLocalOffset = 42, CentralFlags = 8;
    public const int LocalCompressedSize = 18, LocalUncompressedSize = 22, LocalFlags = 6;
    public const int EndCount = 10, EndCentralSize = 12, EndCentralOffset = 16;

    public Image Build()
    {
        var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        var locals = new List<int>();
        var records = new List<(byte[] Name, uint Crc, long CSize, long USize, long Offset, ushort Method)>();
        foreach (var (name, data, deflate) in _entries)
        {
            byte[] nameBytes = Encoding.UTF8.GetBytes(name);
            byte[] payload = deflate ? Deflate(data) : data;
            uint crc = Crc32.Compute(data);
            int offset = (int)ms.Position;
            locals.Add(offset);
            // Pad the local extra field so data starts 64-byte aligned, like torch's writer.
            int zip64Len = Zip64 ? 20 : 0;
            int unpadded = offset + 30 + nameBytes.Length + zip64Len + 4;
            int pad = (64 - unpadded % 64) % 64;
            w.Write(0x04034b50u); w.Write((ushort)(Zip64 ? 45 : 20)); w.Write((ushort)0); w.Write((ushort)(deflate ? 8 : 0));
            w.Write((ushort)0); w.Write((ushort)0x21); w.Write(crc);
            w.Write(Zip64 ? uint.MaxValue : (uint)payload.Length); w.Write(Zip64 ? uint.MaxValue : (uint)data.Length);
            w.Write((ushort)nameBytes.Length); w.Write((ushort)(zip64Len + 4 + pad));
            w.Write(nameBytes);
            if (Zip64) { w.Write((ushort)1); w.Write((ushort)16); w.Write((long)data.Length); w.Write((long)payload.Length); }
            w.Write((ushort)0x4246); w.Write((ushort)pad); w.Write(new byte[pad]); // "FB" padding field
            w.Write(payload);
            records.Add((nameBytes, crc, payload.Length, data.Length, offset, (ushort)(deflate ? 8 : 0)));
        }
        int cd = (int)ms.Position;
        var centrals = new List<int>();
        foreach (var r in records)
        {
            centrals.Add((int)ms.Position);
            w.Write(0x02014b50u); w.Write((ushort)(Zip64 ? 45 : 20)); w.Write((ushort)(Zip64 ? 45 : 20)); w.Write((ushort)0); w.Write(r.Method);
            w.Write((ushort)0); w.Write((ushort)0x21); w.Write(r.Crc);
            w.Write(Zip64 ? uint.MaxValue : (uint)r.CSize); w.Write(Zip64 ? uint.MaxValue : (uint)r.USize);
            w.Write((ushort)r.Name.Length); w.Write((ushort)(Zip64 ? 28 : 0)); w.Write((ushort)0); w.Write((ushort)0);
            w.Write((ushort)0); w.Write(0u); w.Write(Zip64 ? uint.MaxValue : (uint)r.Offset);
            w.Write(r.Name);
            if (Zip64) { w.Write((ushort)1); w.Write((ushort)24); w.Write(r.USize); w.Write(r.CSize); w.Write(r.Offset); }
        }
        int cdEnd = (int)ms.Position;
        if (Zip64)
        {
            long z64 = ms.Position;
            w.Write(0x06064b50u); w.Write(44L); w.Write((ushort)45); w.Write((ushort)45); w.Write(0u); w.Write(0u);
            w.Write((long)records.Count); w.Write((long)records.Count); w.Write((long)(cdEnd - cd)); w.Write((long)cd);
            w.Write(0x07064b50u); w.Write(0u); w.Write(z64); w.Write(1u);
        }
        int end = (int)ms.Position;
        w.Write(0x06054b50u); w.Write((ushort)0); w.Write((ushort)0);
        w.Write(Zip64 ? ushort.MaxValue : (ushort)records.Count); w.Write(Zip64 ? ushort.MaxValue : (ushort)records.Count);
        w.Write(Zip64 ? uint.MaxValue : (uint)(cdEnd - cd)); w.Write(Zip64 ? uint.MaxValue : (uint)cd);
        w.Write((ushort)0);
        w.Flush();
        return new Image { Bytes = ms.ToArray(), LocalHeaders = [.. locals], CentralHeaders = [.. centrals], CentralDirectory = cd, EndRecord = end };
    }

    private static byte[] Deflate(byte[] data)
    {
        var ms = new MemoryStream();
        using (var d = new DeflateStream(ms, CompressionLevel.Optimal, leaveOpen: true)) d.Write(data);
        return ms.ToArray();
    }
}
