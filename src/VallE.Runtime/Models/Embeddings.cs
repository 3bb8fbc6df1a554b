namespace VallE.Runtime.Models;

/// <summary>An nn.Embedding table <c>[Rows, Dim]</c> (upstream's TokenEmbedding; no dropout at inference).</summary>
internal sealed class Embedding(string name, float[] table, int rows, int dim)
{
    public string Name { get; } = name;
    public int Rows { get; } = rows;
    public int Dim { get; } = dim;

    public ReadOnlySpan<float> Row(long id)
    {
        if ((ulong)id >= (ulong)Rows)
            throw new InvalidInputException($"token id {id} is outside the {Rows} rows of {Name}");
        return table.AsSpan((int)id * Dim, Dim);
    }

    public void CopyTo(long id, Span<float> destination) => Row(id).CopyTo(destination);

    /// <summary>destination += table[id] (the summed codebook embeddings of the NAR).</summary>
    public void AddTo(long id, Span<float> destination) =>
        System.Numerics.Tensors.TensorPrimitives.Add(destination, Row(id), destination);
}

/// <summary>
/// Upstream's SinePositionalEmbedding at inference: <c>x * x_scale + alpha * pe[pos]</c>, with
/// <c>pe[p, 2i] = sin(p * div_i)</c>, <c>pe[p, 2i+1] = cos(p * div_i)</c>, <c>div_i = exp(2i * -ln(10000) / dim)</c>.
/// Every VALL-E position module is built with <c>scale=False</c> (x_scale = 1); alpha is the stored parameter
/// (learned for the AR, fixed but still applied for the NAR). Text and audio count positions from 0 separately.
/// </summary>
internal sealed class SinePositions
{
    private float[] _pe = [];
    private int _positions;

    public int Dim { get; }
    public float Alpha { get; }
    public float XScale { get; }

    public SinePositions(int dim, float alpha, bool scale = false, int initialPositions = 4000)
    {
        Dim = dim;
        Alpha = alpha;
        XScale = scale ? MathF.Sqrt(dim) : 1f;
        EnsureCapacity(initialPositions);
    }

    /// <summary>Grows the table (sessions call this up front, never while decoding).</summary>
    public void EnsureCapacity(int positions)
    {
        if (positions <= _positions) return;
        var pe = new float[(long)positions * Dim];
        float[] div = Frequencies(Dim);
        for (int p = 0; p < positions; p++)
        {
            for (int i = 0; i < Dim; i += 2)
            {
                float angle = p * div[i / 2];
                pe[(long)p * Dim + i] = MathF.Sin(angle);
                if (i + 1 < Dim) pe[(long)p * Dim + i + 1] = MathF.Cos(angle);
            }
        }
        _pe = pe;
        _positions = positions;
    }

    /// <summary>
    /// <c>div_i = exp(2i * -(ln 10000 / dim))</c> for i in [0, ceil(dim / 2)), in float32 throughout as torch builds
    /// its table: the CPU table above and the CUDA kernels (which compute sin/cos on the fly) share these values.
    /// </summary>
    public static float[] Frequencies(int dim)
    {
        float factor = (float)(-(Math.Log(10000.0) / dim));
        var div = new float[(dim + 1) / 2];
        for (int i = 0; i < div.Length; i++) div[i] = MathF.Exp(2 * i * factor);
        return div;
    }

    /// <summary>rows[r] = rows[r] * x_scale + alpha * pe[firstPosition + r] for <paramref name="count"/> rows.</summary>
    public void Apply(Span<float> rows, int firstPosition, int count)
    {
        if (firstPosition + count > _positions)
            throw new InvalidOperationException($"positional table holds {_positions} positions, {firstPosition + count} needed");
        for (int r = 0; r < count; r++)
        {
            var x = rows.Slice(r * Dim, Dim);
            var pe = _pe.AsSpan((firstPosition + r) * Dim, Dim);
            for (int i = 0; i < Dim; i++) x[i] = x[i] * XScale + Alpha * pe[i];
        }
    }
}
