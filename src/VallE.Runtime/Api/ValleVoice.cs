using VallE.Runtime.Audio;
using VallE.Runtime.Codec;
using VallE.Runtime.Pipeline;

namespace VallE;

/// <summary>
/// A voice for <see cref="ValleSpeechClient"/>: a few seconds of recorded speech (a WAV file, or its EnCodec codes)
/// and the transcript of what is said in it, or (VALL-E X) a voice preset (<see cref="FromPreset"/>), or
/// (e-c-k-e-r/vall-e) the recording alone (<see cref="FromWav(string)"/>, <see cref="FromCodes(string)"/>). The client
/// encodes every voice once, in its constructor.
/// </summary>
public sealed class ValleVoice
{
    private readonly AudioCodes? _codes;

    /// <summary>The words spoken in the recording (upstream's <c>--text-prompts</c>); "" for an audio-only voice.</summary>
    public string Transcript { get; }
    /// <summary>The recording (any WAV: mixed to mono, resampled to 24 kHz), or null for a codes voice.</summary>
    public string? WavPath { get; }
    /// <summary>The recording's EnCodec codes (<c>.npy</c>, int64 <c>[T, 8]</c>), or null.</summary>
    public string? CodesPath { get; }
    /// <summary>A VALL-E X voice preset (<c>.npz</c>), or null.</summary>
    public string? PresetPath { get; }
    /// <summary>
    /// VALL-E X: the language of <see cref="Transcript"/> (en, zh, ja; null = auto, detected from the text).
    /// Ignored by lifeiteng models. Presets carry their own.
    /// </summary>
    public string? TranscriptLanguage { get; }

    private ValleVoice(string transcript, string? wavPath, string? codesPath, AudioCodes? codes, string? language = null, string? presetPath = null,
        bool audioOnly = false)
    {
        if (presetPath is null && !audioOnly && string.IsNullOrWhiteSpace(transcript)) throw new ArgumentException("the transcript of a voice must not be empty", nameof(transcript));
        if (language is not (null or "en" or "zh" or "ja" or "auto"))
            throw new ArgumentException($"the transcript language '{language}' is not en, zh, ja or auto", nameof(language));
        Transcript = transcript;
        WavPath = wavPath;
        CodesPath = codesPath;
        PresetPath = presetPath;
        TranscriptLanguage = language == "auto" ? null : language;
        _codes = codes;
    }

    /// <summary>A voice from a recording; encoded with <see cref="ValleSpeechClientOptions.CodecEncoder"/> (required then).</summary>
    /// <param name="transcriptLanguage">VALL-E X: en, zh or ja; null = detect (auto).</param>
    public static ValleVoice FromWav(string path, string transcript, string? transcriptLanguage = null) =>
        new(transcript, RequirePath(path), null, null, transcriptLanguage);

    /// <summary>A voice from EnCodec codes saved as NumPy (int64 or int32 <c>[T, 8]</c>); needs no encoder.</summary>
    /// <param name="transcriptLanguage">VALL-E X: en, zh or ja; null = detect (auto).</param>
    public static ValleVoice FromCodes(string path, string transcript, string? transcriptLanguage = null) =>
        new(transcript, null, RequirePath(path), null, transcriptLanguage);

    /// <summary>
    /// A VALL-E X voice preset (<c>.npz</c> with <c>audio_tokens</c>, <c>text_tokens</c> and <c>lang_code</c>, as
    /// upstream's <c>make_prompt</c> writes them; e.g. the presets of Plachtaa/VALL-E-X). VALL-E X checkpoints only.
    /// </summary>
    public static ValleVoice FromPreset(string path) => new("", null, null, null, presetPath: RequirePath(path));

    /// <summary>
    /// A voice from EnCodec codes in memory, <c>[T, 8]</c> (<see cref="EncodecEncoder.Encode"/>'s result, or a
    /// <c>long[T, 8]</c> matrix, copied by its conversion).
    /// </summary>
    /// <param name="transcriptLanguage">VALL-E X: en, zh or ja; null = detect (auto).</param>
    public static ValleVoice FromCodes(AudioCodes codes, string transcript, string? transcriptLanguage = null)
    {
        ArgumentNullException.ThrowIfNull(codes);
        if (codes.Frames < 1 || codes.Codebooks != EncodecContract.Quantizers)
            throw new ArgumentException($"codes must be [T, {EncodecContract.Quantizers}] with T >= 1, got [{codes.Frames}, {codes.Codebooks}]", nameof(codes));
        return new(transcript, null, null, codes, transcriptLanguage);
    }

    /// <summary>
    /// A voice from a recording alone, without its transcript: for e-c-k-e-r/vall-e checkpoints, whose prompt is the
    /// audio only (upstream's sequence has no prompt transcript). Lifeiteng VALL-E and VALL-E X refuse it.
    /// </summary>
    public static ValleVoice FromWav(string path) => new("", RequirePath(path), null, null, audioOnly: true);

    /// <summary>A voice from EnCodec codes (<c>.npy</c>) alone, without a transcript: e-c-k-e-r/vall-e only (see <see cref="FromWav(string)"/>).</summary>
    public static ValleVoice FromCodes(string path) => new("", null, RequirePath(path), null, audioOnly: true);

    /// <summary>A voice from EnCodec codes in memory alone, without a transcript: e-c-k-e-r/vall-e only.</summary>
    public static ValleVoice FromCodes(AudioCodes codes)
    {
        ArgumentNullException.ThrowIfNull(codes);
        if (codes.Frames < 1 || codes.Codebooks != EncodecContract.Quantizers)
            throw new ArgumentException($"codes must be [T, {EncodecContract.Quantizers}] with T >= 1, got [{codes.Frames}, {codes.Codebooks}]", nameof(codes));
        return new("", null, null, codes, audioOnly: true);
    }

    /// <summary>Whether the voice carries the words spoken in it (a transcript, or a preset's tokens).</summary>
    public bool HasTranscript => PresetPath is not null || !string.IsNullOrWhiteSpace(Transcript);

    internal bool NeedsEncoder => WavPath is not null;
    internal bool IsPreset => PresetPath is not null;

    /// <summary>
    /// The VALL-E X prompt of this voice: the preset, or the codes (<see cref="Load"/>) with the transcript
    /// tokenized as upstream's <c>make_prompt</c>; WAV recordings over <see cref="VallexPrompt.MaxRecordingSeconds"/>
    /// are refused as upstream refuses them.
    /// </summary>
    internal VallexPrompt LoadVallex(EncodecEncoder? encoder, double maxPromptSeconds, CancellationToken cancellation)
    {
        if (PresetPath is not null)
        {
            var preset = VallexPrompt.LoadPreset(PresetPath);
            PromptAudio.CheckFrames(PresetPath, preset.Codes.Frames, maxPromptSeconds);
            return preset;
        }
        AudioCodes codes = Load(encoder, WavPath is null ? maxPromptSeconds : Math.Min(maxPromptSeconds, VallexPrompt.MaxRecordingSeconds), cancellation);
        return VallexPrompt.FromTranscript(codes, Transcript, TranscriptLanguage ?? "auto");
    }

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
