namespace VallE.Runtime.Models;

/// <summary>Runs a <see cref="DecoderWeights"/> stack over a batch of segments: every layer, then the final norm.</summary>
internal static class DecoderStack
{
    public static void Forward(DecoderWeights decoder, Span<float> x, int rows, ReadOnlySpan<Segment> segments, int stage, Workspace ws)
    {
        foreach (var layer in decoder.Layers)
            layer.Forward(x, rows, segments, stage, ws);
        decoder.FinalNorm?.Apply(x, x, rows, stage);
    }
}
