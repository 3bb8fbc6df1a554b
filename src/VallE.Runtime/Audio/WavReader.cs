using System.Buffers.Binary;

namespace VallE.Runtime.Audio;

/// <summary>
/// Reads RIFF/WAVE files as written by real tools, not only by the book:
/// <list type="bullet">
/// <item>PCM 8 (unsigned), 16, 24, 32-bit and IEEE float 32/64, any channel count, rates of
/// <see cref="MinSampleRate"/> to <see cref="MaxSampleRate"/> Hz;</item>
/// <item>WAVE_FORMAT_EXTENSIBLE (the sub-format GUID decides PCM or float);</item>
/// <item>chunks in any order before <c>data</c> (LIST/fact/bext before fmt), odd-sized chunks with their pad byte;</item>
/// <item>a data size of 0 or 0xFFFFFFFF (streaming writers that never patched the header): the data runs to the end
/// of the file; the RIFF size field is ignored for the same reason.</item>
/// </list>
/// Everything else (not RIFF, no fmt or data chunk, unsupported encoding, a chunk that claims more bytes than the
/// file holds) is an <see cref="InvalidInputException"/> naming the file and the problem. The header is read
/// first and checked against the file's real size; only then are the samples (and nothing else) read.
/// </summary>
public static class WavReader
{
    /// <summary>
    /// Lowest sample rate read. Telephone audio is 8 kHz; below that a rate is a corrupt or hostile header
    /// (1 Hz turns a 444-byte file into 200 s of audio and gigabytes once resampled to 24 kHz).
    /// </summary>
    public const int MinSampleRate = 8000;
    /// <summary>Highest sample rate read: the top rate of studio equipment.</summary>
    public const int MaxSampleRate = 384000;

    private const ushort TagPcm = 1, TagFloat = 3, TagExtensible = 0xFFFE;
    private const uint StreamingSize = 0xFFFFFFFF;
    // fmt fields past the 40 bytes of WAVE_FORMAT_EXTENSIBLE are never needed.
    private const int FmtBytesUsed = 40;

    /// <summary>Reads and checks the header of <paramref name="path"/> without reading its samples.</summary>
    public static WavHeader ReadHeader(string path) => WithFile(path, ReadHeader);

    public static WavAudio Read(string path) => WithFile(path, s => ReadSamples(s, ReadHeader(s)));

    /// <summary>Parses a whole WAV file held in memory.</summary>
    public static WavAudio Parse(ReadOnlySpan<byte> file)
    {
        using var s = new MemoryStream(file.ToArray(), writable: false);
        return ReadSamples(s, ReadHeader(s));
    }

    private static T WithFile<T>(string path, Func<Stream, T> read)
    {
        if (Directory.Exists(path)) throw new InvalidInputException($"{path}: is a directory, expected a WAV file");
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: file not found");
        try
        {
            using var s = File.OpenRead(path);
            return read(s);
        }
        catch (InvalidInputException e)
        {
            throw new InvalidInputException($"{path}: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException($"{path}: cannot read: {e.Message}", e);
        }
    }

    /// <summary>Walks the chunks up to <c>data</c>, seeking over everything but <c>fmt </c>.</summary>
    private static WavHeader ReadHeader(Stream s)
    {
        long fileLength = s.Length;
        Span<byte> riff = stackalloc byte[12];
        if (fileLength < 12 || !TryReadAt(s, 0, riff)) throw new InvalidInputException("not a WAV file (shorter than a RIFF header)");
        if (!riff[..4].SequenceEqual("RIFF"u8))
        {
            if (riff[..4].SequenceEqual("RF64"u8)) throw new InvalidInputException("RF64 WAV files are not supported; convert to a plain WAV");
            throw new InvalidInputException("not a WAV file (no RIFF header)");
        }
        if (!riff[8..12].SequenceEqual("WAVE"u8)) throw new InvalidInputException("RIFF file is not WAVE");

        WavFormat? format = null;
        Span<byte> chunk = stackalloc byte[8];
        for (long pos = 12; pos + 8 <= fileLength;)
        {
            if (!TryReadAt(s, pos, chunk)) break;
            ReadOnlySpan<byte> id = chunk[..4];
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(chunk[4..]);
            long body = pos + 8;
            long remaining = fileLength - body;
            if (id.SequenceEqual("data"u8))
            {
                if (format is not { } f) throw new InvalidInputException("data chunk comes before the fmt chunk");
                bool streaming = size is 0 or StreamingSize;
                long length = streaming ? remaining : size;
                if (length > remaining)
                    throw new InvalidInputException($"truncated: data chunk declares {size} bytes, the file holds {remaining}");
                long partial = length % f.BytesPerFrame;
                // A streaming writer may have been cut mid-frame; a sized chunk that is not whole frames is corrupt.
                if (partial != 0 && !streaming)
                    throw new InvalidInputException($"data chunk of {length} bytes is not whole {f.BytesPerFrame}-byte frames");
                return new WavHeader(f, body, length - partial);
            }
            if (size > remaining)
                throw new InvalidInputException($"truncated: chunk '{ChunkName(id)}' declares {size} bytes, the file holds {remaining}");
            if (id.SequenceEqual("fmt "u8))
            {
                var fmt = new byte[Math.Min(size, FmtBytesUsed)];
                if (!TryReadAt(s, body, fmt)) throw new InvalidInputException("truncated fmt chunk");
                format = ParseFormat(fmt);
            }
            // RIFF chunks are word-aligned: an odd-sized chunk is followed by one pad byte.
            pos = body + size + (size & 1);
        }
        throw new InvalidInputException(format is null ? "no fmt chunk" : "no data chunk");
    }

    /// <summary>Reads the samples <paramref name="header"/> located (their size was checked against the file).</summary>
    private static WavAudio ReadSamples(Stream s, WavHeader header)
    {
        if (header.DataLength > Array.MaxLength)
            throw new InvalidInputException($"data chunk of {header.DataLength} bytes is too large (at most {Array.MaxLength} bytes are read)");
        var data = new byte[header.DataLength];
        if (!TryReadAt(s, header.DataOffset, data)) throw new InvalidInputException("truncated data chunk (the file shrank while being read?)");
        return Decode(header.Format, data);
    }

    private static bool TryReadAt(Stream s, long offset, Span<byte> buffer)
    {
        s.Position = offset;
        try { s.ReadExactly(buffer); return true; }
        catch (EndOfStreamException) { return false; }
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
        if (rate is < MinSampleRate or > MaxSampleRate)
            throw new InvalidInputException($"sample rate {rate} Hz is outside {MinSampleRate}..{MaxSampleRate} Hz");
        bool bitsOk = kind == WavSampleFormat.Pcm ? bits is 8 or 16 or 24 or 32 : bits is 32 or 64;
        if (!bitsOk) throw new InvalidInputException($"unsupported {kind} sample size {bits} bits");
        if (blockAlign != bits / 8 * channels)
            throw new InvalidInputException($"fmt block align {blockAlign} does not match {channels} channels x {bits} bits");
        return new WavFormat(kind, bits, channels, (int)rate);
    }

    private static WavAudio Decode(WavFormat format, ReadOnlySpan<byte> data)
    {
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
