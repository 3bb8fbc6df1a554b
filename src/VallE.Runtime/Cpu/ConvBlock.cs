namespace VallE.Runtime.Cpu;

/// <summary>Conv1d(dim, dim, kernel, padding kernel/2) + BatchNorm1d folded to per-channel scale/shift + ReLU, over time.</summary>
internal sealed class ConvBlock(float[] weight, float[] bias, float[] bnScale, float[] bnShift, int dim, int kernel)
{
    /// <summary>x, y: [rows, dim] of one sequence (rows = time steps); y must not overlap x.</summary>
    public void Apply(ReadOnlySpan<float> x, int rows, Span<float> y)
    {
        int pad = kernel / 2;
        for (int t = 0; t < rows; t++)
        {
            for (int o = 0; o < dim; o++)
            {
                float acc = bias[o];
                for (int k = 0; k < kernel; k++)
                {
                    int src = t + k - pad;
                    if (src < 0 || src >= rows) continue;
                    var xr = x.Slice(src * dim, dim);
                    // weight[o, i, k]
                    for (int i = 0; i < dim; i++) acc += weight[(o * dim + i) * kernel + k] * xr[i];
                }
                // BatchNorm (eval) then ReLU.
                float v = acc * bnScale[o] + bnShift[o];
                y[t * dim + o] = v > 0 ? v : 0;
            }
        }
    }
}
