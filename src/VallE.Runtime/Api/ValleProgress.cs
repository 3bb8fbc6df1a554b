namespace VallE;

/// <summary>Which model pass a <see cref="ValleProgress"/> report is about.</summary>
public enum ValleStage
{
    /// <summary>The autoregressive pass (first codebook), one report per generated frame.</summary>
    Ar,
    /// <summary>The non-autoregressive pass, one report per codebook 1..7.</summary>
    Nar,
}

/// <summary>
/// Progress of one <see cref="ValleSpeechClient"/> call, reported on the synthesising thread (a
/// <see cref="Progress{T}"/> posts it to the caller's synchronisation context) after every AR step and NAR stage.
/// </summary>
/// <param name="Sentence">0-based piece being synthesised (the whole text is piece 0 when it is not split).</param>
/// <param name="Sentences">number of pieces.</param>
/// <param name="Stage">AR or NAR.</param>
/// <param name="Step">AR decode step (0 = prefill) or NAR codebook (1..7).</param>
/// <param name="Frames">frames generated so far (AR: the step number; NAR: the utterance's frames).</param>
public readonly record struct ValleProgress(int Sentence, int Sentences, ValleStage Stage, int Step, int Frames);
