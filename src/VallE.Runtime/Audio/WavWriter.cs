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
    public static long Write(string path, ReadOnlySpan<float> samples, int sampleRate, WavOutputFormat format = WavOutputFormat.Pcm16)
    {
        byte[] bytes = Encode(samples, sampleRate, format, out long clipped);
        AtomicFile.Write(path, s => s.Write(bytes));
        return clipped;
    }

    /// <summary>The complete file image.</summary>
    public static byte[] Encode(ReadOnlySpan<float> samples, int sampleRate, WavOutputFormat format, out long clipped)
    {
        if (sampleRate <= 0) throw new ArgumentOutOfRangeException(nameof(sampleRate));
        int bytesPerSample = format == WavOutputFormat.Pcm16 ? 2 : 4;
        long dataBytes = (long)samples.Length * bytesPerSample;
        if (dataBytes > uint.MaxValue - 36 || dataBytes + 44 > Array.MaxLength)
            throw new InvalidInputException($"audio too long for a WAV file ({samples.Length} samples)");
        var file = new byte[44 + dataBytes];
        var h = file.AsSpan();
        "RIFF"u8.CopyTo(h);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], (uint)(36 + dataBytes));
        "WAVE"u8.CopyTo(h[8..]);
        "fmt "u8.CopyTo(h[12..]);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], 16);
        BinaryPrimitives.WriteUInt16LittleEndian(h[20..], (ushort)(format == WavOutputFormat.Pcm16 ? 1 : 3));
        BinaryPrimitives.WriteUInt16LittleEndian(h[22..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(h[24..], (uint)sampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(h[28..], (uint)(sampleRate * bytesPerSample));
        BinaryPrimitives.WriteUInt16LittleEndian(h[32..], (ushort)bytesPerSample);
        BinaryPrimitives.WriteUInt16LittleEndian(h[34..], (ushort)(8 * bytesPerSample));
        "data"u8.CopyTo(h[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(h[40..], (uint)dataBytes);
        var data = h[44..];
        clipped = 0;
        if (format == WavOutputFormat.Float32)
        {
            for (int i = 0; i < samples.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(data[(4 * i)..], samples[i]);
            return file;
        }
        for (int i = 0; i < samples.Length; i++)
        {
            float x = samples[i];
            // NaN counts as clipped (written as 0): a model that produced it should not pass unnoticed.
            if (!(x >= -1f && x <= 1f)) { clipped++; x = float.IsNaN(x) ? 0f : Math.Clamp(x, -1f, 1f); }
            int v = (int)MathF.Round(x * 32768f);
            BinaryPrimitives.WriteInt16LittleEndian(data[(2 * i)..], (short)Math.Clamp(v, short.MinValue, short.MaxValue));
        }
        return file;
    }
}
