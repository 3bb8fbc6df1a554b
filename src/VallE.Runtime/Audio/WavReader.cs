using System.Buffers.Binary;

namespace VallE.Runtime.Audio;

/// <summary>
/// Reads RIFF/WAVE files as written by real tools, not only by the book:
/// <list type="bullet">
/// <item>PCM 8 (unsigned), 16, 24, 32-bit and IEEE float 32/64, any channel count and rate;</item>
/// <item>WAVE_FORMAT_EXTENSIBLE (the sub-format GUID decides PCM or float);</item>
/// <item>chunks in any order before <c>data</c> (LIST/fact/bext before fmt), odd-sized chunks with their pad byte;</item>
/// <item>a data size of 0 or 0xFFFFFFFF (streaming writers that never patched the header): the data runs to the end
/// of the file; the RIFF size field is ignored for the same reason.</item>
/// </list>
/// Everything else (not RIFF, no fmt or data chunk, unsupported encoding, a chunk that claims more bytes than the
/// file holds) is an <see cref="InvalidInputException"/> naming the file and the problem.
/// </summary>
public static class WavReader
{
    private const ushort TagPcm = 1, TagFloat = 3, TagExtensible = 0xFFFE;
    private const uint StreamingSize = 0xFFFFFFFF;

    public static WavAudio Read(string path)
    {
        if (Directory.Exists(path)) throw new InvalidInputException($"{path}: is a directory, expected a WAV file");
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: file not found");
        var info = new FileInfo(path);
        if (info.Length > Array.MaxLength) throw new InvalidInputException($"{path}: WAV file too large ({info.Length} bytes)");
        byte[] bytes = File.ReadAllBytes(path);
        try
        {
            return Parse(bytes);
        }
        catch (InvalidInputException e)
        {
            throw new InvalidInputException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Parses a whole WAV file held in memory.</summary>
    public static WavAudio Parse(ReadOnlySpan<byte> file)
    {
        if (file.Length < 12) throw new InvalidInputException("not a WAV file (shorter than a RIFF header)");
        if (!file[..4].SequenceEqual("RIFF"u8))
        {
            if (file[..4].SequenceEqual("RF64"u8)) throw new InvalidInputException("RF64 WAV files are not supported; convert to a plain WAV");
            throw new InvalidInputException("not a WAV file (no RIFF header)");
        }
        if (!file[8..12].SequenceEqual("WAVE"u8)) throw new InvalidInputException("RIFF file is not WAVE");

        WavFormat? format = null;
        int pos = 12;
        while (pos + 8 <= file.Length)
        {
            ReadOnlySpan<byte> id = file.Slice(pos, 4);
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(file[(pos + 4)..]);
            int body = pos + 8;
            long remaining = file.Length - body;
            if (id.SequenceEqual("data"u8))
            {
                if (format is null) throw new InvalidInputException("data chunk comes before the fmt chunk");
                long length = size is 0 or StreamingSize ? remaining : size;
                if (length > remaining)
                    throw new InvalidInputException($"truncated: data chunk declares {size} bytes, the file holds {remaining}");
                return Decode(format.Value, file.Slice(body, (int)length), streaming: size is 0 or StreamingSize);
            }
            if (size > remaining)
                throw new InvalidInputException($"truncated: chunk '{ChunkName(id)}' declares {size} bytes, the file holds {remaining}");
            if (id.SequenceEqual("fmt "u8)) format = ParseFormat(file.Slice(body, (int)size));
            // RIFF chunks are word-aligned: an odd-sized chunk is followed by one pad byte.
            pos = body + (int)size + (int)(size & 1);
        }
        throw new InvalidInputException(format is null ? "no fmt chunk" : "no data chunk");
    }

    private static WavFormat ParseFormat(ReadOnlySpan<byte> fmt)
    {
        if (fmt.Length < 16) throw new InvalidInputException($"fmt chunk too short ({fmt.Length} bytes)");
        ushort tag = BinaryPrimitives.ReadUInt16LittleEndian(fmt);
        int channels = BinaryPrimitives.ReadUInt16LittleEndian(fmt[2..]);
        uint rate = BinaryPrimitives.ReadUInt32LittleEndian(fmt[4..]);
        int blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(fmt[12..]);
        int bits = BinaryPrimitives.ReadUInt16LittleEndian(fmt[14..]);
        if (tag == TagExtensible)
        {
            // cbSize (2) + validBits (2) + channel mask (4) + sub-format GUID (16), whose first two bytes are the tag.
            if (fmt.Length < 40) throw new InvalidInputException("WAVE_FORMAT_EXTENSIBLE fmt chunk too short");
            tag = BinaryPrimitives.ReadUInt16LittleEndian(fmt[24..]);
        }
        var kind = tag switch
        {
            TagPcm => WavSampleFormat.Pcm,
            TagFloat => WavSampleFormat.Float,
            _ => throw new InvalidInputException($"unsupported WAV encoding 0x{tag:X4} (only PCM and IEEE float are read)"),
        };
        if (channels == 0) throw new InvalidInputException("fmt chunk declares 0 channels");
        if (rate == 0 || rate > 1_000_000) throw new InvalidInputException($"unsupported sample rate {rate} Hz");
        bool bitsOk = kind == WavSampleFormat.Pcm ? bits is 8 or 16 or 24 or 32 : bits is 32 or 64;
        if (!bitsOk) throw new InvalidInputException($"unsupported {kind} sample size {bits} bits");
        if (blockAlign != bits / 8 * channels)
            throw new InvalidInputException($"fmt block align {blockAlign} does not match {channels} channels x {bits} bits");
        return new WavFormat(kind, bits, channels, (int)rate);
    }

    private static WavAudio Decode(WavFormat format, ReadOnlySpan<byte> data, bool streaming)
    {
        int frameBytes = format.BytesPerFrame;
        if (data.Length % frameBytes != 0)
        {
            // A streaming writer may have been cut mid-frame; a sized chunk that is not whole frames is corrupt.
            if (!streaming) throw new InvalidInputException($"data chunk of {data.Length} bytes is not whole {frameBytes}-byte frames");
            data = data[..(data.Length - data.Length % frameBytes)];
        }
        int count = data.Length / (format.BitsPerSample / 8);
        var samples = new float[count];
        switch (format.Format, format.BitsPerSample)
        {
            case (WavSampleFormat.Pcm, 8):
                for (int i = 0; i < count; i++) samples[i] = (data[i] - 128) / 128f;
                break;
            case (WavSampleFormat.Pcm, 16):
                for (int i = 0; i < count; i++) samples[i] = BinaryPrimitives.ReadInt16LittleEndian(data[(2 * i)..]) / 32768f;
                break;
            case (WavSampleFormat.Pcm, 24):
                for (int i = 0, b = 0; i < count; i++, b += 3)
                {
                    int v = data[b] | data[b + 1] << 8 | (sbyte)data[b + 2] << 16;
                    samples[i] = v / 8388608f;
                }
                break;
            case (WavSampleFormat.Pcm, 32):
                for (int i = 0; i < count; i++) samples[i] = (float)(BinaryPrimitives.ReadInt32LittleEndian(data[(4 * i)..]) / 2147483648.0);
                break;
            case (WavSampleFormat.Float, 32):
                for (int i = 0; i < count; i++) samples[i] = BinaryPrimitives.ReadSingleLittleEndian(data[(4 * i)..]);
                break;
            default: // float 64
                for (int i = 0; i < count; i++) samples[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(data[(8 * i)..]);
                break;
        }
        foreach (float s in samples)
            if (!float.IsFinite(s)) throw new InvalidInputException("float WAV holds NaN or infinite samples");
        return new WavAudio(format, samples);
    }

    private static string ChunkName(ReadOnlySpan<byte> id)
    {
        Span<char> chars = stackalloc char[4];
        for (int i = 0; i < 4; i++) chars[i] = id[i] is >= 0x20 and < 0x7F ? (char)id[i] : '?';
        return new string(chars);
    }
}
