using VallE.Runtime.Audio;
using VallE.Runtime.Codec;

namespace VallE.Runtime.Pipeline;

/// <summary>
/// How synthesised sentences become one recording, wherever they are joined (the CLI's <c>synth --sentences</c>
/// output, <see cref="VallE.ValleSpeechClient.GetAudioAsync"/>): in order, with a short pause between them.
/// </summary>
public static class SentenceJoin
{
    /// <summary>Silence between two sentences, in seconds.</summary>
    public const double GapSeconds = 0.2;

    /// <summary>
    /// Appends a sentence's audio to <paramref name="output"/>, after the pause unless it is the first sentence
    /// written to this output (a stream of one sentence per file has no pause).
    /// </summary>
    public static void Append(WavStreamWriter output, ReadOnlySpan<float> samples, bool first)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!first) output.AppendSilence((int)(GapSeconds * EncodecContract.SampleRate));
        output.Append(samples);
    }
}
