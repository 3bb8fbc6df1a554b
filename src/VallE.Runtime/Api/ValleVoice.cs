using VallE.Runtime.Audio;
using VallE.Runtime.Codec;
using VallE.Runtime.Pipeline;

namespace VallE;

/// <summary>
/// A voice for <see cref="ValleSpeechClient"/>: a few seconds of recorded speech (a WAV file, or its EnCodec codes)
/// and the transcript of what is said in it. The client encodes every voice once, in its constructor.
/// </summary>
public sealed class ValleVoice
{
    private readonly AudioCodes? _codes;

    /// <summary>The words spoken in the recording (upstream's <c>--text-prompts</c>).</summary>
    public string Transcript { get; }
    /// <summary>The recording (any WAV: mixed to mono, resampled to 24 kHz), or null for a codes voice.</summary>
    public string? WavPath { get; }
    /// <summary>The recording's EnCodec codes (<c>.npy</c>, int64 <c>[T, 8]</c>), or null.</summary>
    public string? CodesPath { get; }

    private ValleVoice(string transcript, string? wavPath, string? codesPath, AudioCodes? codes)
    {
        if (string.IsNullOrWhiteSpace(transcript)) throw new ArgumentException("the transcript of a voice must not be empty", nameof(transcript));
        Transcript = transcript;
        WavPath = wavPath;
        CodesPath = codesPath;
        _codes = codes;
    }

    /// <summary>A voice from a recording; encoded with <see cref="ValleSpeechClientOptions.CodecEncoder"/> (required then).</summary>
    public static ValleVoice FromWav(string path, string transcript) => new(transcript, RequirePath(path), null, null);

    /// <summary>A voice from EnCodec codes saved as NumPy (int64 or int32 <c>[T, 8]</c>); needs no encoder.</summary>
    public static ValleVoice FromCodes(string path, string transcript) => new(transcript, null, RequirePath(path), null);

    /// <summary>
    /// A voice from EnCodec codes in memory, <c>[T, 8]</c> (<see cref="EncodecEncoder.Encode"/>'s result, or a
    /// <c>long[T, 8]</c> matrix, copied by its conversion).
    /// </summary>
    public static ValleVoice FromCodes(AudioCodes codes, string transcript)
    {
        ArgumentNullException.ThrowIfNull(codes);
        if (codes.Frames < 1 || codes.Codebooks != EncodecContract.Quantizers)
            throw new ArgumentException($"codes must be [T, {EncodecContract.Quantizers}] with T >= 1, got [{codes.Frames}, {codes.Codebooks}]", nameof(codes));
        return new(transcript, null, null, codes);
    }

    internal bool NeedsEncoder => WavPath is not null;

    /// <summary>The prompt codes <c>[T, 8]</c>: read or encoded (the caller passes the encoder for WAV voices).</summary>
    internal AudioCodes Load(EncodecEncoder? encoder, double maxPromptSeconds, CancellationToken cancellation)
    {
        AudioCodes codes;
        string source;
        if (WavPath is not null)
        {
            return Synthesizer.EncodePrompt(encoder!, WavPath, maxPromptSeconds, cancellation);
        }
        if (CodesPath is not null)
        {
            codes = CodesFile.Read(CodesPath);
            source = CodesPath;
        }
        else
        {
            codes = _codes!;
            source = "codes";
        }
        PromptAudio.CheckFrames(source, codes.Frames, maxPromptSeconds);
        return codes;
    }

    private static string RequirePath(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("a voice needs a file path", nameof(path));
        return path;
    }
}
