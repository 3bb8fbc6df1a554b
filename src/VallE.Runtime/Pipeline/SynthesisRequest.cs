using VallE.Runtime.Codec;
using VallE.Runtime.Sampling;

namespace VallE.Runtime.Pipeline;

/// <summary>What to say, in whose voice, and how to sample.</summary>
public sealed record SynthesisRequest
{
    /// <summary>The words spoken in the prompt recording (upstream's <c>--text-prompts</c>).</summary>
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
    string StopReason, StageTimes Times);
