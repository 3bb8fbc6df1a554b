using System.Buffers.Binary;
using VallE.Weights.IO;

namespace VallE.Runtime.Audio;

/// <summary>Sample encodings <see cref="WavWriter"/> can write.</summary>
public enum WavOutputFormat
{
    /// <summary>16-bit signed PCM (samples clipped to [-1, 1); clipping is counted).</summary>
    Pcm16,
    /// <summary>32-bit IEEE float (written as is, nothing clipped).</summary>
    Float32,
}

/// <summary>
/// Writes mono WAV files (canonical 44-byte header, PCM16 or float32) through <see cref="AtomicFile"/>.
/// PCM16 conversion rounds to nearest and clips; the number of clipped samples is returned so that callers can
/// report it: clipping is never silent.
/// </summary>
public static class WavWriter
{
    /// <returns>How many samples were outside [-1, 1] and had to be clipped (always 0 for float32).</returns>
    public static long Write(string path, ReadOnlyMemory<float> samples, int sampleRate, WavOutputFormat format = WavOutputFormat.Pcm16)
    {
        if (sampleRate <= 0) throw new ArgumentOutOfRangeException(nameof(sampleRate));
        long clipped = 0;
        AtomicFile.Write(path, stream =>
        {
            var wav = new WavStreamWriter(stream, sampleRate, format);
            wav.Append(samples.Span);
            wav.Finish();
            clipped = wav.Clipped;
        });
        return clipped;
    }
}

/// <summary>
/// Writes one mono WAV progressively, so that long audio never has to be held whole: the header first, then
/// samples as they come, converted through a small buffer. <see cref="Finish"/> patches the sizes when the stream
/// can seek; on a pipe (standard output, a FIFO) the sizes are written as 0xFFFFFFFF, the "length unknown"
/// convention sox and ffmpeg use for streamed WAV.
/// </summary>
public sealed class WavStreamWriter
{
    private const int HeaderBytes = 44;
    private readonly Stream _stream;
    private readonly int _sampleRate;
    private readonly WavOutputFormat _format;
    private readonly int _bytesPerSample;
    private readonly long _start;
    private readonly byte[] _buffer = new byte[1 << 16];

    /// <summary>Samples written so far.</summary>
    public long Samples { get; private set; }
    /// <summary>PCM16 samples outside [-1, 1] (NaN included) that had to be clipped; always 0 for float32.</summary>
    public long Clipped { get; private set; }

    public WavStreamWriter(Stream stream, int sampleRate, WavOutputFormat format)
    {
        if (sampleRate <= 0) throw new ArgumentOutOfRangeException(nameof(sampleRate));
        _stream = stream;
        _sampleRate = sampleRate;
        _format = format;
        _bytesPerSample = format == WavOutputFormat.Pcm16 ? 2 : 4;
        _start = stream.CanSeek ? stream.Position : 0;
        Span<byte> header = stackalloc byte[HeaderBytes];
        FillHeader(header, dataBytes: null);
        _stream.Write(header);
    }

    public void Append(ReadOnlySpan<float> samples)
    {
        long dataBytes = (Samples + samples.Length) * _bytesPerSample;
        if (dataBytes > uint.MaxValue - 36)
            throw new InvalidInputException($"audio too long for a WAV file ({Samples + samples.Length} samples; WAV holds at most 4 GiB of data)");
        int perChunk = _buffer.Length / _bytesPerSample;
        while (samples.Length > 0)
        {
            int n = Math.Min(perChunk, samples.Length);
            Convert(samples[..n], _buffer);
            _stream.Write(_buffer, 0, n * _bytesPerSample);
            samples = samples[n..];
            Samples += n;
        }
    }

    public void AppendSilence(int count)
    {
        Span<float> zeros = stackalloc float[256];
        zeros.Clear();
        for (; count > 0; count -= zeros.Length) Append(zeros[..Math.Min(count, zeros.Length)]);
    }

    /// <summary>Writes the final sizes into the header (seekable streams) and flushes.</summary>
    public void Finish()
    {
        if (_stream.CanSeek)
        {
            long end = _stream.Position;
            Span<byte> header = stackalloc byte[HeaderBytes];
            FillHeader(header, Samples * _bytesPerSample);
            _stream.Position = _start;
            _stream.Write(header);
            _stream.Position = end;
        }
        _stream.Flush();
    }

    private void FillHeader(Span<byte> h, long? dataBytes)
    {
        uint data = dataBytes is { } n ? (uint)n : uint.MaxValue;
        uint riff = dataBytes is { } m ? (uint)(36 + m) : uint.MaxValue;
        "RIFF"u8.CopyTo(h);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], riff);
        "WAVE"u8.CopyTo(h[8..]);
        "fmt "u8.CopyTo(h[12..]);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], 16);
        BinaryPrimitives.WriteUInt16LittleEndian(h[20..], (ushort)(_format == WavOutputFormat.Pcm16 ? 1 : 3));
        BinaryPrimitives.WriteUInt16LittleEndian(h[22..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(h[24..], (uint)_sampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(h[28..], (uint)(_sampleRate * _bytesPerSample));
        BinaryPrimitives.WriteUInt16LittleEndian(h[32..], (ushort)_bytesPerSample);
        BinaryPrimitives.WriteUInt16LittleEndian(h[34..], (ushort)(8 * _bytesPerSample));
        "data"u8.CopyTo(h[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(h[40..], data);
    }

    private void Convert(ReadOnlySpan<float> samples, Span<byte> data)
    {
        if (_format == WavOutputFormat.Float32)
        {
            for (int i = 0; i < samples.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(data[(4 * i)..], samples[i]);
            return;
        }
        for (int i = 0; i < samples.Length; i++)
        {
            float x = samples[i];
            // NaN counts as clipped (written as 0): a model that produced it should not pass unnoticed.
            if (!(x >= -1f && x <= 1f)) { Clipped++; x = float.IsNaN(x) ? 0f : Math.Clamp(x, -1f, 1f); }
            int v = (int)MathF.Round(x * 32768f);
            BinaryPrimitives.WriteInt16LittleEndian(data[(2 * i)..], (short)Math.Clamp(v, short.MinValue, short.MaxValue));
        }
    }
}
