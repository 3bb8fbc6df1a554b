namespace VallE.Runtime.Models;

/// <summary>Runs a <see cref="DecoderWeights"/> stack over a batch of segments: every layer, then the final norm.</summary>
internal static class DecoderStack
{
    /// <param name="cancellation">checked before every layer: one full-size NAR pass or a long prefill takes about a
    /// second on two cores, a layer a twelfth of that, so Ctrl-C stops well within a second.</param>
    public static void Forward(DecoderWeights decoder, Span<float> x, int rows, ReadOnlySpan<Segment> segments, int stage, Workspace ws,
        CancellationToken cancellation = default)
    {
        foreach (var layer in decoder.Layers)
        {
            cancellation.ThrowIfCancellationRequested();
            layer.Forward(x, rows, segments, stage, ws);
        }
        decoder.FinalNorm?.Apply(x, x, rows, stage);
    }
}
