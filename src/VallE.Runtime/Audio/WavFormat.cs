namespace VallE.Runtime.Audio;

/// <summary>How samples are stored in a WAV file's data chunk.</summary>
public enum WavSampleFormat
{
    /// <summary>Integer PCM (8-bit unsigned, 16/24/32-bit signed little-endian).</summary>
    Pcm,
    /// <summary>IEEE float (32 or 64 bit).</summary>
    Float,
}

/// <summary>The sample layout a WAV file declares in its fmt chunk (after resolving WAVE_FORMAT_EXTENSIBLE).</summary>
/// <param name="Format">integer PCM or IEEE float.</param>
/// <param name="BitsPerSample">container size of one sample: 8, 16, 24, 32 (PCM) or 32, 64 (float).</param>
/// <param name="Channels">interleaved channels per frame.</param>
/// <param name="SampleRate">frames per second.</param>
public readonly record struct WavFormat(WavSampleFormat Format, int BitsPerSample, int Channels, int SampleRate)
{
    public int BytesPerFrame => BitsPerSample / 8 * Channels;

    public override string ToString() =>
        $"{(Format == WavSampleFormat.Pcm ? "PCM" : "float")} {BitsPerSample}-bit, {Channels} ch, {SampleRate} Hz";
}

/// <summary>
/// What a WAV file's header declares, already checked against the file's real size: the layout and where the
/// samples lie. Lets a caller judge the audio (its duration) before any sample is read.
/// </summary>
/// <param name="Format">the sample layout of the fmt chunk.</param>
/// <param name="DataOffset">file offset of the first sample.</param>
/// <param name="DataLength">bytes of whole frames in the data chunk (never past the end of the file).</param>
public readonly record struct WavHeader(WavFormat Format, long DataOffset, long DataLength)
{
    public long Frames => DataLength / Format.BytesPerFrame;
    public double DurationSeconds => (double)Frames / Format.SampleRate;
}

/// <summary>Decoded audio: interleaved float samples in [-1, 1] (PCM) or as stored (float) and their layout.</summary>
public sealed class WavAudio
{
    public WavFormat Format { get; }
    /// <summary>Interleaved samples, <c>Frames * Channels</c> long.</summary>
    public float[] Samples { get; }
    public int Frames => Samples.Length / Format.Channels;
    public double DurationSeconds => (double)Frames / Format.SampleRate;

    public WavAudio(WavFormat format, float[] samples)
    {
        if (samples.Length % format.Channels != 0) throw new ArgumentException("sample count is not a multiple of channels");
        Format = format;
        Samples = samples;
    }

    /// <summary>The average of all channels per frame (a plain mean, as torchaudio users do with <c>mean(dim=0)</c>).</summary>
    public float[] DownmixToMono()
    {
        int ch = Format.Channels;
        if (ch == 1) return (float[])Samples.Clone();
        var mono = new float[Frames];
        float scale = 1f / ch;
        for (int f = 0, i = 0; f < mono.Length; f++)
        {
            float sum = 0;
            for (int c = 0; c < ch; c++) sum += Samples[i++];
            mono[f] = sum * scale;
        }
        return mono;
    }
}
