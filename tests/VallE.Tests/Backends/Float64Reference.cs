using VallE.Runtime.Backends;

namespace VallE.Tests.Backends;

/// <summary>
/// The operations of <see cref="IComputeBackend"/> computed in float64 from the same float32 inputs: what the op table
/// (<see cref="OpTableTests"/>) compares every backend with. Written from the interface's documentation and upstream's
/// definitions (torch LayerNorm, Conv1d + BatchNorm1d, nn.MultiheadAttention), not from any backend's code.
/// </summary>
internal static class Float64Reference
{
    /// <summary>Normalised error <c>Σ(y − ref)² / Σ ref²</c> (llama.cpp test-backend-ops' NMSE); 0 when both are zero.</summary>
    public static double Nmse(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        if (actual.Length != expected.Length) throw new ArgumentException($"{actual.Length} values, {expected.Length} expected");
        double err = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = actual[i] - expected[i];
            err += d * d;
            norm += expected[i] * expected[i];
        }
        if (double.IsNaN(err)) return double.NaN;
        return norm == 0 ? err : err / norm;
    }

    /// <summary><c>dst[r] = Σ_j tables[j][ids[r, j]]</c> over the first <c>tables.Length</c> id columns.</summary>
    public static double[] GatherSum(float[][] tables, int dim, int[] ids, int idCols, int rows)
    {
        var y = new double[rows * dim];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < tables.Length; j++)
            {
                int id = ids[r * idCols + j];
                for (int i = 0; i < dim; i++) y[r * dim + i] += tables[j][id * dim + i];
            }
        return y;
    }

    /// <summary>
    /// <c>pe[p, 2i] = sin(p·w_i)</c>, <c>pe[p, 2i+1] = cos(p·w_i)</c>: the angle is the float32 product (torch builds
    /// its table in float32; at position 1000 a float64 angle would differ by ~1e-4), its sine and cosine float64.
    /// </summary>
    public static double Pe(int position, int column, float[] frequencies)
    {
        float angle = position * frequencies[column >> 1];
        return (column & 1) == 0 ? Math.Sin(angle) : Math.Cos(angle);
    }

    /// <summary><c>y = act(x · Wᵀ + b)</c>, W <c>[outF, inF]</c> (the float32 weights, before any quantisation).</summary>
    public static double[] Linear(float[] x, int rows, int inF, float[] w, int outF, float[]? bias, Activation activation)
    {
        var y = new double[rows * outF];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outF; o++)
            {
                double acc = bias is null ? 0 : bias[o];
                for (int k = 0; k < inF; k++) acc += (double)x[r * inF + k] * w[o * inF + k];
                y[r * outF + o] = activation == Activation.Relu ? Math.Max(acc, 0) : acc;
            }
        return y;
    }

    /// <summary>
    /// torch LayerNorm (biased variance, eps inside the root, affine); with <paramref name="scaleShift"/>
    /// (<c>2·dim</c> values, scale then shift) upstream's AdaptiveLayerNorm <c>scale · LN(x) + shift</c>.
    /// </summary>
    public static double[] Norm(ReadOnlySpan<double> x, int rows, int dim, float[] gamma, float[] beta, float eps, float[]? scaleShift)
    {
        var y = new double[rows * dim];
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * dim, dim);
            double mean = 0;
            foreach (double v in xr) mean += v;
            mean /= dim;
            double variance = 0;
            foreach (double v in xr) variance += (v - mean) * (v - mean);
            variance /= dim;
            double rstd = 1 / Math.Sqrt(variance + eps);
            for (int i = 0; i < dim; i++)
            {
                double v = (xr[i] - mean) * rstd * gamma[i] + beta[i];
                if (scaleShift is not null) v = scaleShift[i] * v + scaleShift[dim + i];
                y[r * dim + i] = v;
            }
        }
        return y;
    }

    /// <summary>
    /// Conv1d(dim, dim, kernel, padding kernel/2) over time (rows), weight <c>[dim, dim, kernel]</c>, then the
    /// folded BatchNorm <c>v·bnScale + bnShift</c>, then ReLU.
    /// </summary>
    /// <summary>LLaMA RMSNorm: <c>w · x / sqrt(mean(x²) + eps)</c>.</summary>
    public static double[] RmsNorm(ReadOnlySpan<float> x, int rows, float[] weight, float eps)
    {
        int dim = weight.Length;
        var y = new double[rows * dim];
        for (int r = 0; r < rows; r++)
        {
            double sum = 0;
            for (int i = 0; i < dim; i++) sum += (double)x[r * dim + i] * x[r * dim + i];
            double scale = 1 / Math.Sqrt(sum / dim + eps);
            for (int i = 0; i < dim; i++) y[r * dim + i] = weight[i] * x[r * dim + i] * scale;
        }
        return y;
    }

    /// <summary>Rotary embedding (rotate_half pairs i, i + half) of the q and k parts of packed q|k|v rows; v copied.</summary>
    public static double[] Rope(ReadOnlySpan<float> qkv, int rows, int dim, int heads, int[] positions, double theta)
    {
        int hd = dim / heads, half = hd / 2;
        var y = TestData.Widen(qkv);
        for (int r = 0; r < rows; r++)
            for (int h = 0; h < 2 * heads; h++)
                for (int i = 0; i < half; i++)
                {
                    double angle = positions[r] * Math.Pow(theta, -2.0 * i / hd);
                    int at = r * 3 * dim + h * hd + i;
                    double a = qkv[at], b = qkv[at + half];
                    y[at] = a * Math.Cos(angle) - b * Math.Sin(angle);
                    y[at + half] = b * Math.Cos(angle) + a * Math.Sin(angle);
                }
        return y;
    }

    /// <summary><c>gelu(gate) · up</c> with the exact GELU <c>x · Φ(x)</c>, gate|up packed per row.</summary>
    public static double[] GatedGelu(ReadOnlySpan<float> gateUp, int rows, int f)
    {
        var y = new double[rows * f];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < f; i++)
            {
                double g = gateUp[r * 2 * f + i];
                y[r * f + i] = 0.5 * g * (1 + Erf(g / Math.Sqrt(2))) * gateUp[r * 2 * f + f + i];
            }
        return y;
    }

    /// <summary>erf by its everywhere-positive series <c>2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (2n+1)!!</c> (double precision for |x| ≤ 6).</summary>
    public static double Erf(double x)
    {
        if (Math.Abs(x) > 6) return Math.Sign(x);
        double term = x, sum = x;
        for (int n = 1; n < 200 && Math.Abs(term) > 1e-18 * Math.Abs(sum); n++)
        {
            term *= 2 * x * x / (2 * n + 1);
            sum += term;
        }
        return 2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x) * sum;
    }

    public static double[] Conv(float[] x, int rows, int dim, float[] weight, float[] bias, float[] bnScale, float[] bnShift, int kernel)
    {
        var y = new double[rows * dim];
        int pad = kernel / 2;
        for (int t = 0; t < rows; t++)
            for (int o = 0; o < dim; o++)
            {
                double acc = bias[o];
                for (int k = 0; k < kernel; k++)
                {
                    int src = t + k - pad;
                    if (src < 0 || src >= rows) continue;
                    for (int i = 0; i < dim; i++) acc += (double)weight[(o * dim + i) * kernel + k] * x[src * dim + i];
                }
                y[t * dim + o] = Math.Max(acc * bnScale[o] + bnShift[o], 0);
            }
        return y;
    }

    /// <summary>
    /// Multi-head attention of one query row (<c>q</c>: dim values, heads of <c>dim / heads</c> consecutive
    /// columns) over keys/values <c>[0, count)</c> of <paramref name="cache"/>'s slot/layer: softmax(q·kᵀ/√hd)·v per
    /// head, heads concatenated.
    /// </summary>
    public static void Attend(ReadOnlySpan<float> q, ReferenceKvCache cache, int slot, int layer, int count, int heads, Span<double> output)
    {
        int dim = q.Length, hd = dim / heads;
        double scale = 1 / Math.Sqrt(hd);
        var scores = new double[count];
        for (int h = 0; h < heads; h++)
        {
            int c0 = h * hd;
            double max = double.NegativeInfinity;
            for (int j = 0; j < count; j++)
            {
                ReadOnlySpan<float> k = cache.Key(slot, layer, j);
                double s = 0;
                for (int i = 0; i < hd; i++) s += (double)q[c0 + i] * k[c0 + i];
                scores[j] = s * scale;
                max = Math.Max(max, scores[j]);
            }
            double total = 0;
            for (int j = 0; j < count; j++) total += scores[j] = Math.Exp(scores[j] - max);
            for (int i = 0; i < hd; i++) output[c0 + i] = 0;
            for (int j = 0; j < count; j++)
            {
                ReadOnlySpan<float> v = cache.Value(slot, layer, j);
                double p = scores[j] / total;
                for (int i = 0; i < hd; i++) output[c0 + i] += p * v[c0 + i];
            }
        }
    }
}

/// <summary>
/// What a <see cref="DeviceKvCache"/> should hold: keys and values per slot, layer and position, written as the
/// interface says <see cref="IComputeBackend.Attention"/> and <see cref="IComputeBackend.AttentionDecode"/> write them.
/// Unwritten positions are NaN, so a reference that reads one fails loudly.
/// </summary>
internal sealed class ReferenceKvCache
{
    private readonly float[] _keys, _values;
    private readonly int _layers, _capacity, _dim;

    public ReferenceKvCache(int slots, int layers, int capacity, int dim)
    {
        _layers = layers;
        _capacity = capacity;
        _dim = dim;
        _keys = new float[(long)slots * layers * capacity * dim];
        _values = new float[_keys.Length];
        Array.Fill(_keys, float.NaN);
        Array.Fill(_values, float.NaN);
    }

    private int At(int slot, int layer, int pos) => ((slot * _layers + layer) * _capacity + pos) * _dim;

    /// <summary>Stores the k and v of one packed <c>q | k | v</c> row at a position.</summary>
    public void Store(int slot, int layer, int pos, ReadOnlySpan<float> qkvRow)
    {
        qkvRow.Slice(_dim, _dim).CopyTo(_keys.AsSpan(At(slot, layer, pos), _dim));
        qkvRow.Slice(2 * _dim, _dim).CopyTo(_values.AsSpan(At(slot, layer, pos), _dim));
    }

    public ReadOnlySpan<float> Key(int slot, int layer, int pos) => _keys.AsSpan(At(slot, layer, pos), _dim);
    public ReadOnlySpan<float> Value(int slot, int layer, int pos) => _values.AsSpan(At(slot, layer, pos), _dim);
}
