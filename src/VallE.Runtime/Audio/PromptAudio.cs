using System.Globalization;

namespace VallE.Runtime.Audio;

/// <summary>Turns any readable WAV into what EnCodec 24 kHz wants: mono float samples at the model's rate.</summary>
public static class PromptAudio
{
    /// <summary>
    /// The longest acoustic prompt accepted by default, in seconds. The VALL-E paper prompts with 3 s and VALL-E X
    /// documents prompts of at most 15 s: the model attends to every prompt frame at every step, so a longer prompt
    /// costs time and memory without helping. 30 s leaves slack for real clips while refusing a wrong file (a whole
    /// recording) before it is read and resampled.
    /// </summary>
    public const double DefaultMaxPromptSeconds = 30;

    /// <summary>
    /// Reads <paramref name="path"/>, averages its channels and resamples to <paramref name="sampleRate"/>.
    /// With <paramref name="maxSeconds"/>, a longer file is refused from its header, before any sample is read
    /// (an <see cref="InvalidInputException"/> whose <see cref="InvalidInputException.Setting"/> is <c>maxSeconds</c>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSeconds"/> is not a positive number (validate user input first).</exception>
    public static float[] LoadMono(string path, int sampleRate, out WavFormat source, double? maxSeconds = null)
    {
        if (maxSeconds is { } limit)
        {
            if (!(limit > 0) || double.IsInfinity(limit))
                throw new ArgumentOutOfRangeException(nameof(maxSeconds), limit, "the prompt length limit must be a positive number of seconds");
            CheckLength(path, WavReader.ReadHeader(path).DurationSeconds, limit);
        }
        WavAudio audio = WavReader.Read(path);
        source = audio.Format;
        if (audio.Frames == 0) throw new InvalidInputException($"{path}: the WAV file holds no audio");
        float[] mono = audio.DownmixToMono();
        return audio.Format.SampleRate == sampleRate ? mono : Resampler.Resample(mono, audio.Format.SampleRate, sampleRate);
    }

    /// <summary>The same limit for a prompt given as codes (75 frames per second).</summary>
    public static void CheckFrames(string source, int frames, double maxSeconds) =>
        CheckLength(source, frames / (double)Codec.EncodecContract.FramesPerSecond, maxSeconds);

    /// <summary>
    /// The one prompt-length rule: longer than <paramref name="maxSeconds"/> is an <see cref="InvalidInputException"/>
    /// whose <see cref="InvalidInputException.Setting"/> is <c>maxSeconds</c> (callers add how to raise it).
    /// </summary>
    private static void CheckLength(string source, double seconds, double maxSeconds)
    {
        if (seconds > maxSeconds)
            throw new InvalidInputException(string.Format(CultureInfo.InvariantCulture,
                "{0}: prompt is {1:0.0##} s long; the limit is {2:0.###} s", source, seconds, maxSeconds)) { Setting = "maxSeconds" };
    }
}
