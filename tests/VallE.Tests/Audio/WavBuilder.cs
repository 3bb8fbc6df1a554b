using System.Buffers.Binary;
using System.Text;

namespace VallE.Tests.Audio;

/// <summary>Builds WAV files chunk by chunk, including the odd layouts real writers produce.</summary>
internal sealed class WavBuilder
{
    private readonly List<(string Id, byte[] Body, uint? SizeOverride)> _chunks = [];

    public static byte[] Fmt(ushort tag, int channels, int rate, int bits, ushort? extensibleSubTag = null)
    {
        int size = extensibleSubTag is null ? 16 : 40;
        var b = new byte[size];
        BinaryPrimitives.WriteUInt16LittleEndian(b, extensibleSubTag is null ? tag : (ushort)0xFFFE);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(2), (ushort)channels);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), (uint)rate);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), (uint)(rate * channels * bits / 8));
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(12), (ushort)(channels * bits / 8));
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(14), (ushort)bits);
        if (extensibleSubTag is { } sub)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(16), 22);
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(18), (ushort)bits);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(20), channels == 1 ? 4u : 3u);
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(24), sub);
            // The rest of KSDATAFORMAT_SUBTYPE_*: 0000-0010-8000-00aa00389b71.
            byte[] tail = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71];
            tail.CopyTo(b, 26);
        }
        return b;
    }

    public WavBuilder Chunk(string id, byte[] body, uint? sizeOverride = null)
    {
        _chunks.Add((id, body, sizeOverride));
        return this;
    }

    public byte[] Build()
    {
        using var ms = new MemoryStream();
        ms.Write("RIFF"u8);
        ms.Write(new byte[4]);
        ms.Write("WAVE"u8);
        foreach (var (id, body, sizeOverride) in _chunks)
        {
            ms.Write(Encoding.ASCII.GetBytes(id));
            var size = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(size, sizeOverride ?? (uint)body.Length);
            ms.Write(size);
            ms.Write(body);
            if (body.Length % 2 == 1 && sizeOverride is null) ms.WriteByte(0);
        }
        var bytes = ms.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), (uint)(bytes.Length - 8));
        return bytes;
    }

    /// <summary>Encodes samples in [-1, 1] the way each format stores them.</summary>
    public static byte[] Samples(float[] s, ushort tag, int bits)
    {
        var b = new byte[s.Length * bits / 8];
        for (int i = 0; i < s.Length; i++)
        {
            var span = b.AsSpan(i * bits / 8);
            switch (tag, bits)
            {
                case (1, 8): span[0] = (byte)(Math.Round(s[i] * 127) + 128); break;
                case (1, 16): BinaryPrimitives.WriteInt16LittleEndian(span, (short)Math.Round(s[i] * 32767)); break;
                case (1, 24):
                    int v = (int)Math.Round(s[i] * 8388607);
                    span[0] = (byte)v; span[1] = (byte)(v >> 8); span[2] = (byte)(v >> 16);
                    break;
                case (1, 32): BinaryPrimitives.WriteInt32LittleEndian(span, (int)Math.Round(s[i] * 2147483647.0)); break;
                case (3, 32): BinaryPrimitives.WriteSingleLittleEndian(span, s[i]); break;
                default: BinaryPrimitives.WriteDoubleLittleEndian(span, s[i]); break;
            }
        }
        return b;
    }
}
