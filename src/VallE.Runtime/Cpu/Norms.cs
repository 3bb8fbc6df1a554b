namespace VallE.Runtime.Cpu;

/// <summary>
/// A normalisation applied row by row to <c>[rows, dim]</c> activations. The NAR's adaptive norms depend on the
/// codebook stage; the AR's plain LayerNorm ignores it.
/// </summary>
internal abstract class RowNorm(int dim)
{
    public int Dim { get; } = dim;

    /// <summary>y[r] = norm(x[r]) for every row (x and y may be the same buffer).</summary>
    public abstract void Apply(ReadOnlySpan<float> x, Span<float> y, int rows, int stage);
}

/// <summary>torch.nn.LayerNorm with affine weight and bias: biased variance, eps inside the square root.</summary>
internal sealed class LayerNorm(float[] gamma, float[] beta, float eps) : RowNorm(gamma.Length)
{
    public override void Apply(ReadOnlySpan<float> x, Span<float> y, int rows, int stage)
    {
        for (int r = 0; r < rows; r++)
            Row(x.Slice(r * Dim, Dim), y.Slice(r * Dim, Dim));
    }

    public void Row(ReadOnlySpan<float> x, Span<float> y)
    {
        // Mean and variance in double: torch's CPU kernel accumulates in higher precision than a naive float sum.
        double sum = 0;
        for (int i = 0; i < x.Length; i++) sum += x[i];
        float mean = (float)(sum / x.Length);
        double sq = 0;
        for (int i = 0; i < x.Length; i++) { double d = x[i] - mean; sq += d * d; }
        float rstd = (float)(1.0 / Math.Sqrt(sq / x.Length + eps));
        for (int i = 0; i < x.Length; i++) y[i] = (x[i] - mean) * rstd * gamma[i] + beta[i];
    }
}

/// <summary>
/// Upstream's AdaptiveLayerNorm: <c>a * LayerNorm(x) + b</c> where <c>[a, b] = project_layer(stage_embedding)</c>
/// split in that order (first half scales, second half shifts). The stage embeddings are constants, so [a, b] is
/// computed once per stage at load time.
/// </summary>
internal sealed class AdaptiveLayerNorm(LayerNorm inner, float[][] scale, float[][] shift) : RowNorm(inner.Dim)
{
    public override void Apply(ReadOnlySpan<float> x, Span<float> y, int rows, int stage)
    {
        float[] a = scale[stage - 1], b = shift[stage - 1];
        for (int r = 0; r < rows; r++)
        {
            var yr = y.Slice(r * Dim, Dim);
            inner.Row(x.Slice(r * Dim, Dim), yr);
            for (int i = 0; i < Dim; i++) yr[i] = a[i] * yr[i] + b[i];
        }
    }
}
