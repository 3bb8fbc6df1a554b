namespace VallE.Runtime.Cpu;

/// <summary>
/// The CPU kernels of the LLaMA-block operations (e-c-k-e-r/vall-e): RMSNorm, rotary embedding, exact-GELU gated
/// MLP activation. Plain loops: these are a few percent of a pass next to the linear layers.
/// </summary>
internal static class LlamaOps
{
    /// <summary>HF LlamaRMSNorm in float32: <c>w · (x · rsqrt(mean(x²) + eps))</c>; <paramref name="y"/> may alias <paramref name="x"/>.</summary>
    public static void RmsNorm(ReadOnlySpan<float> x, Span<float> y, int rows, ReadOnlySpan<float> weight, float eps)
    {
        int d = weight.Length;
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * d, d);
            var yr = y.Slice(r * d, d);
            double sum = 0;
            for (int i = 0; i < d; i++) sum += (double)xr[i] * xr[i];
            float variance = (float)(sum / d);
            float scale = 1f / MathF.Sqrt(variance + eps);
            for (int i = 0; i < d; i++) yr[i] = weight[i] * (xr[i] * scale);
        }
    }

    /// <summary>The rotary frequencies <c>theta^(−2i/headDim)</c>, i &lt; headDim/2, rounded to float32 as torch's inv_freq.</summary>
    public static float[] Frequencies(int headDim, float theta)
    {
        var f = new float[headDim / 2];
        for (int i = 0; i < f.Length; i++) f[i] = (float)(1.0 / Math.Pow(theta, 2.0 * i / headDim));
        return f;
    }

    public static void Rope(Span<float> qkv, ReadOnlySpan<int> positions, int positionStride, int rows, int dim, int heads, float theta)
    {
        int hd = dim / heads, half = hd / 2;
        var freq = Frequencies(hd, theta);
        Span<float> cos = stackalloc float[half];
        Span<float> sin = stackalloc float[half];
        for (int r = 0; r < rows; r++)
        {
            int p = positions[r * positionStride];
            for (int i = 0; i < half; i++)
            {
                float angle = p * freq[i];
                cos[i] = MathF.Cos(angle);
                sin[i] = MathF.Sin(angle);
            }
            var row = qkv.Slice(r * 3 * dim, 2 * dim); // q then k
            for (int h = 0; h < 2 * heads; h++)
            {
                var x = row.Slice(h * hd, hd);
                for (int i = 0; i < half; i++)
                {
                    float a = x[i], b = x[i + half];
                    x[i] = a * cos[i] - b * sin[i];
                    x[i + half] = b * cos[i] + a * sin[i];
                }
            }
        }
    }

    public static void GatedGelu(ReadOnlySpan<float> gateUp, Span<float> y, int rows, int f)
    {
        for (int r = 0; r < rows; r++)
        {
            var g = gateUp.Slice(r * 2 * f, 2 * f);
            var o = y.Slice(r * f, f);
            for (int i = 0; i < f; i++) o[i] = Gelu(g[i]) * g[f + i];
        }
    }

    /// <summary>Exact GELU <c>0.5 · x · erfc(−x/√2)</c>, computed in double and rounded once.</summary>
    public static float Gelu(float x) => (float)(0.5 * x * Erfc(-x * 0.70710678118654752440));

    /// <summary>
    /// erfc by the Chebyshev-fitted form of Numerical Recipes (fractional error below 1.2e-7 everywhere, i.e. about
    /// one float32 ulp), so GELU through erfc keeps that relative accuracy for negative inputs too.
    /// </summary>
    public static double Erfc(double x)
    {
        double z = Math.Abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double ans = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
            t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? ans : 2.0 - ans;
    }
}
