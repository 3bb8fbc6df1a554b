namespace VallE.Runtime.Cuda;

/// <summary>
/// The host computation behind <see cref="CudaComputeBackend.Conv"/> (CUDA has no conv kernel; the text prenet's
/// three convolutions run once per request, so a round trip through host memory costs little):
/// <code>y[t, o] = relu((bias[o] + Σ_k Σ_i w[o, i, k] · x[t + k - pad, i]) · bnScale[o] + bnShift[o]),  pad = kernel / 2</code>
/// with x zero outside <c>[0, rows)</c> (padding "same"), w <c>[dim, dim, kernel]</c> as torch stores Conv1d weights.
/// Sums in float32, bias first, then kernel taps in order, then input channels in order.
/// </summary>
internal static class CudaConvHost
{
    public static void Forward(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> bnScale,
        ReadOnlySpan<float> bnShift, int dim, int kernel, ReadOnlySpan<float> x, int rows, Span<float> y)
    {
        if (weight.Length != dim * dim * kernel || (bias.Length != 0 && bias.Length != dim) || bnScale.Length != dim
            || bnShift.Length != dim || x.Length < rows * dim || y.Length < rows * dim)
            throw new ArgumentException($"conv of {dim} channels, kernel {kernel}, {rows} rows: inconsistent sizes");
        int pad = kernel / 2;
        for (int t = 0; t < rows; t++)
        {
            for (int o = 0; o < dim; o++)
            {
                float acc = bias.Length == 0 ? 0f : bias[o];
                var w = weight.Slice(o * dim * kernel, dim * kernel);
                for (int k = 0; k < kernel; k++)
                {
                    int src = t + k - pad;
                    if (src < 0 || src >= rows) continue;
                    var xr = x.Slice(src * dim, dim);
                    for (int i = 0; i < dim; i++) acc += w[i * kernel + k] * xr[i];
                }
                y[t * dim + o] = MathF.Max(0f, acc * bnScale[o] + bnShift[o]);
            }
        }
    }
}
