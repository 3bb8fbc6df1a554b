namespace VallE.Runtime.Cpu;

/// <summary>
/// A run of consecutive rows of one sequence inside a batched forward pass: rows
/// <c>[Row, Row + Length)</c> of the activations are positions <c>[Start, Start + Length)</c> of
/// sequence <c>Cache</c>. Batching stacks the segments of several sequences so the linear layers read their
/// weights once for all of them, while attention stays within each sequence.
/// </summary>
/// <param name="TextLength">
/// AR only: positions below it are text, which attends to all text and no audio (upstream's x_attn_mask);
/// audio positions attend to all text and causally to audio. Ignored when <paramref name="Causal"/> is false.
/// </param>
/// <param name="Causal">False for the NAR: every position attends to the whole sequence.</param>
internal readonly record struct Segment(KvCache Cache, int Row, int Start, int Length, int TextLength, bool Causal)
{
    /// <summary>Number of keys position <paramref name="pos"/> may attend to (keys <c>[0, count)</c>).</summary>
    public int VisibleKeys(int pos) =>
        !Causal ? Start + Length : pos < TextLength ? TextLength : pos + 1;
}
