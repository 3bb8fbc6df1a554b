using VallE.Runtime.Codec;
using VallE.Runtime.Sampling;

namespace VallE.Runtime.Pipeline;

/// <summary>What to say, in whose voice, and how to sample.</summary>
public sealed record SynthesisRequest
{
    /// <summary>The words spoken in the prompt recording (upstream's <c>--text-prompts</c>); "" for e-c-k-e-r/vall-e.</summary>
    public required string PromptText { get; init; }
    /// <summary>The text to speak.</summary>
    public required string Text { get; init; }
    /// <summary>EnCodec codes of the prompt recording, <c>[T', 8]</c>.</summary>
    public required AudioCodes PromptCodes { get; init; }
    public SamplingOptions Sampling { get; init; } = new();
    /// <summary>Cap on generated frames per utterance (75 per second), on top of the model's own limit.</summary>
    public int? MaxFrames { get; init; }
    /// <summary>Split <see cref="Text"/> into sentences and synthesise each with the full prompt.</summary>
    public bool SplitSentences { get; init; }

    /// <summary>
    /// VALL-E X: the language of <see cref="Text"/>: en, zh, ja, mix (the text carries its own <c>[EN]</c>..
    /// tags) or auto (default: detected once for the whole text, as upstream). e-c-k-e-r/vall-e: en (default), ja,
    /// de, fr, zh or ko. Ignored by lifeiteng models (their espeak-ng language is the front end's).
    /// </summary>
    public string? Language { get; init; }
    /// <summary>
    /// e-c-k-e-r/vall-e: mode, NAR-len demasking and NAR sampler (null: the defaults). Its prompt is
    /// <see cref="PromptCodes"/> alone: upstream's sequence has no prompt transcript, so <see cref="PromptText"/> is
    /// not used.
    /// </summary>
    public VallE.Runtime.Models.Ecker.EckerSettings? Ecker { get; init; }
    /// <summary>
    /// VALL-E X: the prompt (codes, transcript tokens and language, e.g. a preset:
    /// <see cref="VallexPrompt.LoadPreset"/>). Null: the prompt is <see cref="PromptCodes"/> with
    /// <see cref="PromptText"/> in <see cref="PromptLanguage"/>; no codes and no transcript is upstream's synthesis
    /// without a prompt.
    /// </summary>
    public VallexPrompt? VallexPrompt { get; init; }
    /// <summary>VALL-E X: the language of <see cref="PromptText"/> (en, zh, ja or auto, the default).</summary>
    public string? PromptLanguage { get; init; }
    /// <summary>VALL-E X, with <see cref="SplitSentences"/>: which prompt each sentence gets.</summary>
    public PromptMode PromptMode { get; init; } = PromptMode.Fixed;
    /// <summary>
    /// Upstream VALL-E X's <c>best_of</c>: sample this many AR candidates per utterance in one batched pass and
    /// keep the one with the highest mean log-probability (1 = plain sampling). 1..64.
    /// </summary>
    public int BestOf { get; init; } = 1;
}

/// <summary>How VALL-E X prompts the sentences of a long text (upstream's <c>generate_audio_from_long_text</c> modes).</summary>
public enum PromptMode
{
    /// <summary>Every sentence with the prompt given (upstream's <c>fixed-prompt</c>).</summary>
    Fixed,
    /// <summary>
    /// Each sentence after the first takes the previous sentence's text tokens and generated codes as its prompt
    /// (upstream's <c>sliding-window</c>, without its coin flip: upstream falls back to the original prompt for
    /// half of the sentences at random).
    /// </summary>
    Sliding,
}

/// <summary>Wall time per stage, in milliseconds.</summary>
public sealed record StageTimes(double TextMs, double ArMs, double NarMs, double CodecMs)
{
    public static StageTimes Zero { get; } = new(0, 0, 0, 0);
    public double TotalMs => TextMs + ArMs + NarMs + CodecMs;
    public static StageTimes operator +(StageTimes a, StageTimes b) =>
        new(a.TextMs + b.TextMs, a.ArMs + b.ArMs, a.NarMs + b.NarMs, a.CodecMs + b.CodecMs);
}

/// <summary>One synthesised piece (the whole text, or one sentence of it).</summary>
/// <param name="Index">0-based piece number.</param>
/// <param name="Count">number of pieces.</param>
/// <param name="Text">the text of this piece.</param>
/// <param name="Samples">24 kHz mono audio of the generated frames (the prompt is not included).</param>
/// <param name="Frames">generated code frames (75 per second).</param>
/// <param name="ArSteps">AR decode steps including the prefill.</param>
/// <param name="StopReason">why the AR stopped ("eos", "length", "max-frames").</param>
/// <param name="Times">where this piece's time went.</param>
public sealed record SynthesizedPiece(int Index, int Count, string Text, float[] Samples, int Frames, int ArSteps,
    string StopReason, StageTimes Times)
{
    /// <summary>The generated codes <c>[Frames, 8]</c>; null where a piece was made without them.</summary>
    public AudioCodes? Codes { get; init; }
    /// <summary>With best-of: the kept candidate's mean AR log-probability (upstream's score); else null.</summary>
    public double? ArMeanLogProbability { get; init; }
}
