namespace VallE.Runtime.Codec;

/// <summary>
/// The EnCodec codes of one piece of audio, as every part passes them on (encoder, codes files, the model's prompt
/// and result, decoder): int64 <c>[Frames, Codebooks]</c>, frame-major (the 8 codes of frame 0, then frame 1, ...),
/// the layout of the <c>.npy</c> files and of upstream's <c>y</c>. <see cref="Codebooks"/> is 8 for EnCodec 24 kHz at
/// 6 kbps; any count from 1 is held (the model checks it against its configuration).
/// </summary>
/// <remarks>
/// Read-only through its members and without hidden copies: <see cref="Span"/> and <see cref="Frame"/> are views
/// of the array the codes were built from (which the constructor takes over: do not change it afterwards).
/// <see cref="Slice"/>, <see cref="Codebook"/>, <see cref="ToMatrix"/> and <see cref="FromMatrix"/> copy.
/// A <c>long[,]</c> converts implicitly (a copy), so <c>PromptCodes = new long[T, 8]</c> works; there is no
/// implicit conversion back.
/// </remarks>
public sealed class AudioCodes
{
    private readonly long[] _data;

    /// <summary>Codes over <paramref name="data"/>, <c>[frames, codebooks]</c> frame-major; the array is kept, not copied.</summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> does not hold <c>frames * codebooks</c> values.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="frames"/> &lt; 0 or <paramref name="codebooks"/> &lt; 1.</exception>
    public AudioCodes(long[] data, int frames, int codebooks = EncodecContract.Quantizers)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegative(frames);
        ArgumentOutOfRangeException.ThrowIfLessThan(codebooks, 1);
        if (data.Length != (long)frames * codebooks)
            throw new ArgumentException($"codes hold {data.Length} values, expected {frames} frames x {codebooks} codebooks", nameof(data));
        _data = data;
        Frames = frames;
        Codebooks = codebooks;
    }

    /// <summary>Number of frames (75 per second of audio).</summary>
    public int Frames { get; }

    /// <summary>Codes per frame (8 for EnCodec 24 kHz).</summary>
    public int Codebooks { get; }

    /// <summary>Every code, frame-major: <c>Span[t * Codebooks + j]</c> is codebook <c>j</c> of frame <c>t</c>.</summary>
    public ReadOnlySpan<long> Span => _data;

    /// <summary>The <see cref="Codebooks"/> codes of frame <paramref name="t"/>.</summary>
    public ReadOnlySpan<long> Frame(int t)
    {
        CheckFrame(t);
        return _data.AsSpan(t * Codebooks, Codebooks);
    }

    /// <summary>Codebook <paramref name="codebook"/> of frame <paramref name="frame"/>.</summary>
    public long this[int frame, int codebook]
    {
        get
        {
            CheckFrame(frame);
            CheckCodebook(codebook);
            return _data[frame * Codebooks + codebook];
        }
    }

    /// <summary>Frames <c>firstFrame .. firstFrame + count - 1</c> (a copy).</summary>
    public AudioCodes Slice(int firstFrame, int count)
    {
        if (firstFrame < 0 || count < 0 || firstFrame > Frames - count)
            throw new ArgumentOutOfRangeException(nameof(count), $"frames {firstFrame}..{firstFrame + count - 1} are outside the {Frames} frames");
        return new AudioCodes(_data.AsSpan(firstFrame * Codebooks, count * Codebooks).ToArray(), count, Codebooks);
    }

    /// <summary>One codebook over all frames (a copy), e.g. codebook 0, the AR's.</summary>
    public long[] Codebook(int j)
    {
        CheckCodebook(j);
        var column = new long[Frames];
        for (int t = 0; t < column.Length; t++) column[t] = _data[t * Codebooks + j];
        return column;
    }

    /// <summary>The codes as a <c>[Frames, Codebooks]</c> matrix (a copy).</summary>
    public long[,] ToMatrix()
    {
        var m = new long[Frames, Codebooks];
        Buffer.BlockCopy(_data, 0, m, 0, _data.Length * sizeof(long));
        return m;
    }

    /// <summary>Codes from a <c>[frames, codebooks]</c> matrix (a copy).</summary>
    /// <exception cref="ArgumentException">The matrix has no columns.</exception>
    public static AudioCodes FromMatrix(long[,] matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        int frames = matrix.GetLength(0), codebooks = matrix.GetLength(1);
        if (codebooks < 1)
            throw new ArgumentException($"codes need at least one codebook, got [{frames}, {codebooks}]", nameof(matrix));
        var data = new long[matrix.Length];
        Buffer.BlockCopy(matrix, 0, data, 0, data.Length * sizeof(long));
        return new AudioCodes(data, frames, codebooks);
    }

    /// <summary>A <c>[frames, codebooks]</c> matrix as codes (a copy; see <see cref="FromMatrix"/>).</summary>
    public static implicit operator AudioCodes(long[,] matrix) => FromMatrix(matrix);

    /// <summary>The shape, <c>[Frames, Codebooks]</c>.</summary>
    public override string ToString() => $"[{Frames}, {Codebooks}]";

    private void CheckFrame(int t)
    {
        if ((uint)t >= (uint)Frames)
            throw new ArgumentOutOfRangeException(nameof(t), $"frame {t} is outside 0..{Frames - 1}");
    }

    private void CheckCodebook(int j)
    {
        if ((uint)j >= (uint)Codebooks)
            throw new ArgumentOutOfRangeException(nameof(j), $"codebook {j} is outside 0..{Codebooks - 1}");
    }
}
