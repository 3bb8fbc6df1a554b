namespace VallE.Runtime.Codec;

/// <summary>
/// How <see cref="EncodecEncoder"/> and <see cref="EncodecDecoder"/> split long inputs so that memory stays bounded.
/// One ONNX run over a whole signal holds every intermediate activation of that length at once (measured: 6.1 GB
/// to decode 20 000 frames, 6.1 GB to encode 10 minutes), so inputs longer than <see cref="ChunkFrames"/> are
/// cut into windows of at most that many frames. Each window is a core (the frames it contributes) plus
/// <see cref="ContextFrames"/> on each side that it only computes to warm up the convolutions and the LSTM; the
/// cores partition the input into near-equal parts.
/// </summary>
public sealed record EncodecChunking
{
    /// <summary>
    /// Most frames one ONNX run sees: 20 s. Peak memory grows with it (about 0.3 MB per decoded frame, 0.14 MB per
    /// encoded frame on the CPU) and the relative cost of the context shrinks with it (2 s per 18 s core, 11%);
    /// 20 s keeps `valle decode` and `valle encode` near 0.6 GB at any length (docs/audio.md) while prompts and
    /// single utterances (VALL-E's are under 20 s) still go through one run, bit-identical to an unchunked run.
    /// </summary>
    public const int DefaultChunkFrames = 1500;

    /// <summary>
    /// Frames of context on each side of a core: 1 s. EnCodec's convolutions see well under that, and it gives the
    /// LSTM time to forget the state a window starts from (with random weights, chunked output equals one run to
    /// float rounding; docs/audio.md). The 24 kHz model is causal, so the right context matters only to other models.
    /// </summary>
    public const int DefaultContextFrames = 75;

    /// <summary>
    /// Decoded audio around each seam is a raised-cosine crossfade of the two windows over this many frames
    /// (0.21 s, centred on the seam), so any residual difference between them fades instead of stepping.
    /// </summary>
    public const int DefaultCrossfadeFrames = 16;

    public static EncodecChunking Default { get; } = new();

    public int ChunkFrames { get; init; } = DefaultChunkFrames;
    public int ContextFrames { get; init; } = DefaultContextFrames;
    public int CrossfadeFrames { get; init; } = DefaultCrossfadeFrames;

    /// <summary>Frames of new output per window at most (the window less its context on both sides).</summary>
    public int CoreFrames => ChunkFrames - 2 * ContextFrames;

    /// <summary>Throws when the settings cannot stitch: the crossfade must lie inside both windows' context and inside one core.</summary>
    public void Validate()
    {
        if (ContextFrames < 0 || CrossfadeFrames < 0 || CrossfadeFrames % 2 != 0)
            throw new ArgumentException($"chunking: context ({ContextFrames}) and crossfade ({CrossfadeFrames}) frames must be >= 0, the crossfade even");
        if (CrossfadeFrames > 2 * ContextFrames)
            throw new ArgumentException($"chunking: a crossfade of {CrossfadeFrames} frames needs at least {CrossfadeFrames / 2} frames of context, not {ContextFrames}");
        // Cores are at least half of CoreFrames (equal split), and each holds half a crossfade at either end.
        if (CoreFrames < 2 * Math.Max(1, CrossfadeFrames))
            throw new ArgumentException($"chunking: {ChunkFrames} frames per run leave cores of {CoreFrames} frames, fewer than twice the crossfade ({CrossfadeFrames}) after {ContextFrames} frames of context each side");
    }

    /// <summary>
    /// The windows for <paramref name="frames"/> frames, in order: one window over everything when it fits one run,
    /// else near-equal cores with their context clipped to the signal.
    /// </summary>
    public IReadOnlyList<CodecChunk> Plan(int frames)
    {
        Validate();
        if (frames <= ChunkFrames) return [new CodecChunk(0, frames, 0, frames)];
        int count = (int)((frames + (long)CoreFrames - 1) / CoreFrames);
        var chunks = new CodecChunk[count];
        for (int k = 0; k < count; k++)
        {
            int start = (int)((long)frames * k / count), end = (int)((long)frames * (k + 1) / count);
            chunks[k] = new CodecChunk(start, end, Math.Max(0, start - ContextFrames), Math.Min(frames, end + ContextFrames));
        }
        return chunks;
    }
}

/// <summary>
/// One ONNX run of a chunked encode or decode: frames <c>[WindowStart, WindowEnd)</c> go in, and the output for
/// frames <c>[Start, End)</c> (the core) is kept; decoded audio also uses the window's context near each seam.
/// </summary>
public readonly record struct CodecChunk(int Start, int End, int WindowStart, int WindowEnd)
{
    public int WindowFrames => WindowEnd - WindowStart;
}
