namespace VallE.Runtime.Audio;

/// <summary>Turns any readable WAV into what EnCodec 24 kHz wants: mono float samples at the model's rate.</summary>
public static class PromptAudio
{
    /// <summary>Reads <paramref name="path"/>, averages its channels and resamples to <paramref name="sampleRate"/>.</summary>
    public static float[] LoadMono(string path, int sampleRate, out WavFormat source)
    {
        WavAudio audio = WavReader.Read(path);
        source = audio.Format;
        if (audio.Frames == 0) throw new InvalidInputException($"{path}: the WAV file holds no audio");
        float[] mono = audio.DownmixToMono();
        return audio.Format.SampleRate == sampleRate ? mono : Resampler.Resample(mono, audio.Format.SampleRate, sampleRate);
    }
}
