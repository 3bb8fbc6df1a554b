using VallE.Runtime.Cuda;
using VallE.Runtime.Cuda.Model;
using static VallE.Tests.Cuda.CudaTestSupport;

namespace VallE.Tests.Cuda;

/// <summary>The GPU decoder stack against a float64 CPU transformer with the same random weights (GPU only).</summary>
[TestFixture]
public class CudaDecoderStackTests
{
    private const string Prefix = "dec";
    private const float Eps = 1e-5f;

    internal static Dictionary<string, float[]> RandomWeights(int layers, int d, int ff, bool ada, int seed, string prefix = Prefix)
    {
        var w = new Dictionary<string, float[]>();
        int s = seed;
        void Add(string name, int count, float scale, float offset = 0f) =>
            w[name] = Random(count, s++, scale).Select(v => v + offset).ToArray();
        void AddNorm(string module)
        {
            string n = ada ? module + ".norm" : module;
            Add(n + ".weight", d, 0.2f, 1f);
            Add(n + ".bias", d, 0.2f);
            if (ada)
            {
                Add(module + ".project_layer.weight", 2 * d * d, 0.05f);
                Add(module + ".project_layer.bias", 2 * d, 0.2f, 0.5f);
            }
        }
        for (int l = 0; l < layers; l++)
        {
            string p = $"{prefix}.layers.{l}";
            Add(p + ".self_attn.in_proj_weight", 3 * d * d, 0.15f);
            Add(p + ".self_attn.in_proj_bias", 3 * d, 0.1f);
            Add(p + ".self_attn.out_proj.weight", d * d, 0.15f);
            Add(p + ".self_attn.out_proj.bias", d, 0.1f);
            Add(p + ".linear1.weight", ff * d, 0.15f);
            Add(p + ".linear1.bias", ff, 0.1f);
            Add(p + ".linear2.weight", d * ff, 0.1f);
            Add(p + ".linear2.bias", d, 0.1f);
            AddNorm(p + ".norm1");
            AddNorm(p + ".norm2");
        }
        AddNorm(prefix + ".norm");
        return w;
    }

    // ---- float64 reference of upstream's TransformerEncoder ----

    internal static double[] Linear(Dictionary<string, float[]> w, string name, double[] x, int rows, int inF, int outF, string? bias)
    {
        float[] W = w[name];
        float[]? b = bias is null ? null : w[bias];
        var y = new double[rows * outF];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outF; o++)
            {
                double acc = b?[o] ?? 0;
                for (int i = 0; i < inF; i++) acc += x[r * inF + i] * W[o * inF + i];
                y[r * outF + o] = acc;
            }
        return y;
    }

    private static double[] Norm(Dictionary<string, float[]> w, string module, double[] x, int rows, int d, float[][]? stages, int stage)
    {
        string n = stages is null ? module : module + ".norm";
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, sq = 0;
            for (int c = 0; c < d; c++) mean += x[r * d + c];
            mean /= d;
            for (int c = 0; c < d; c++) sq += Math.Pow(x[r * d + c] - mean, 2);
            double rstd = 1 / Math.Sqrt(sq / d + Eps);
            for (int c = 0; c < d; c++) y[r * d + c] = (x[r * d + c] - mean) * rstd * w[n + ".weight"][c] + w[n + ".bias"][c];
        }
        if (stages is null) return y;
        double[] both = Linear(w, module + ".project_layer.weight", stages[stage].Select(v => (double)v).ToArray(), 1, d, 2 * d, module + ".project_layer.bias");
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < d; c++) y[r * d + c] = both[c] * y[r * d + c] + both[d + c];
        return y;
    }

    private static double[] Attention(double[] qkv, int rows, int d, int heads, int textLength, bool causal)
    {
        int hd = d / heads;
        var o = new double[rows * d];
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < rows; i++)
            {
                var s = new double[rows];
                double max = double.NegativeInfinity;
                for (int j = 0; j < rows; j++)
                {
                    if (causal && !(j < textLength || j <= i)) { s[j] = double.NegativeInfinity; continue; }
                    double dot = 0;
                    for (int c = 0; c < hd; c++) dot += qkv[i * 3 * d + h * hd + c] * qkv[j * 3 * d + d + h * hd + c];
                    s[j] = dot / Math.Sqrt(hd);
                    max = Math.Max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < rows; j++) sum += s[j] = double.IsNegativeInfinity(s[j]) ? 0 : Math.Exp(s[j] - max);
                for (int c = 0; c < hd; c++)
                {
                    double acc = 0;
                    for (int j = 0; j < rows; j++) acc += s[j] * qkv[j * 3 * d + 2 * d + h * hd + c];
                    o[i * d + h * hd + c] = acc / sum;
                }
            }
        return o;
    }

    internal static float[] Reference(Dictionary<string, float[]> w, int layers, int d, int heads, int ff, bool normFirst,
        float[][]? stages, int stage, float[] input, int rows, int textLength, bool causal, string prefix = Prefix)
    {
        double[] x = input.Select(v => (double)v).ToArray();
        for (int l = 0; l < layers; l++)
        {
            string p = $"{prefix}.layers.{l}";
            double[] h = normFirst ? Norm(w, p + ".norm1", x, rows, d, stages, stage) : x;
            double[] qkv = Linear(w, p + ".self_attn.in_proj_weight", h, rows, d, 3 * d, p + ".self_attn.in_proj_bias");
            double[] a = Linear(w, p + ".self_attn.out_proj.weight", Attention(qkv, rows, d, heads, textLength, causal), rows, d, d, p + ".self_attn.out_proj.bias");
            for (int i = 0; i < x.Length; i++) x[i] += a[i];
            if (!normFirst) x = Norm(w, p + ".norm1", x, rows, d, stages, stage);
            h = normFirst ? Norm(w, p + ".norm2", x, rows, d, stages, stage) : x;
            double[] f = Linear(w, p + ".linear1.weight", h, rows, d, ff, p + ".linear1.bias").Select(v => Math.Max(v, 0)).ToArray();
            f = Linear(w, p + ".linear2.weight", f, rows, ff, d, p + ".linear2.bias");
            for (int i = 0; i < x.Length; i++) x[i] += f[i];
            if (!normFirst) x = Norm(w, p + ".norm2", x, rows, d, stages, stage);
        }
        if (normFirst) x = Norm(w, prefix + ".norm", x, rows, d, stages, stage);
        return x.Select(v => (float)v).ToArray();
    }

    private static float[] Download(CudaDevice d, nint pointer, long count)
    {
        // The stack returns raw pointers into its own buffers; copy through a scratch buffer the test owns.
        using var scratch = d.Allocate<float>(count);
        CudaKernels.Convert(d, CudaDType.F32, pointer, CudaDType.F32, scratch.Pointer, count);
        return scratch.Download<float>(count);
    }

    [TestCase(true, true, 13, 5)]
    [TestCase(false, true, 13, 5)]
    [TestCase(true, false, 21, 21)]
    [TestCase(true, true, 1, 1)]
    public void Forward_MatchesCpu(bool normFirst, bool causal, int rows, int textLength)
    {
        var d = RequireDevice();
        const int layers = 2, dim = 64, heads = 4, ff = 256;
        var w = RandomWeights(layers, dim, ff, ada: false, seed: 200);
        using var stack = new CudaDecoderStack(d, new DictionaryWeightSource(w), Prefix, layers, dim, heads, ff, normFirst, Eps, null,
            maxRows: 32, batch: 1, kvCapacity: 32);
        float[] x = Random(rows * dim, 210);
        using var xb = d.Upload<float>(x);
        nint y = stack.Forward(xb.Pointer, rows, textLength, causal);
        AssertClose(Download(d, y, rows * dim), Reference(w, layers, dim, heads, ff, normFirst, null, 0, x, rows, textLength, causal), 1e-4f,
            $"stack normFirst={normFirst} causal={causal}");
    }

    [Test]
    public void Forward_AdaptiveNormStages([Values(0, 6)] int stage)
    {
        var d = RequireDevice();
        const int layers = 2, dim = 32, heads = 2, ff = 128, rows = 17;
        var w = RandomWeights(layers, dim, ff, ada: true, seed: 300);
        float[][] stages = Enumerable.Range(0, 7).Select(s => Random(dim, 320 + s)).ToArray();
        using var stack = new CudaDecoderStack(d, new DictionaryWeightSource(w), Prefix, layers, dim, heads, ff, true, Eps, stages,
            maxRows: rows, batch: 1, kvCapacity: 0);
        float[] x = Random(rows * dim, 330);
        using var xb = d.Upload<float>(x);
        nint y = stack.Forward(xb.Pointer, rows, 0, causal: false, stage: stage);
        AssertClose(Download(d, y, rows * dim), Reference(w, layers, dim, heads, ff, true, stages, stage, x, rows, 0, false), 1e-4f,
            $"AdaLN stage {stage}");
    }

    /// <summary>Prefill two sequences of different lengths, then one batched decode step: each row equals the last
    /// row of a full forward over that sequence plus the new token. Also run through a captured graph.</summary>
    [TestCase(false)]
    [TestCase(true)]
    public void DecodeStep_EqualsFullForward(bool graph)
    {
        var d = RequireDevice();
        const int layers = 2, dim = 64, heads = 4, ff = 256, textLength = 4;
        int[] lengths = [9, 4];
        var w = RandomWeights(layers, dim, ff, ada: false, seed: 400);
        using var stack = new CudaDecoderStack(d, new DictionaryWeightSource(w), Prefix, layers, dim, heads, ff, true, Eps, null,
            maxRows: 16, batch: 2, kvCapacity: 300);
        var full = lengths.Select((n, b) => Random((n + 1) * dim, 410 + b)).ToArray();
        for (int b = 0; b < 2; b++)
        {
            using var xb = d.Upload<float>(full[b].AsSpan(0, lengths[b] * dim));
            stack.Forward(xb.Pointer, lengths[b], textLength, causal: true, sequence: b);
        }
        float[] newRows = [.. full[0].AsSpan(lengths[0] * dim, dim), .. full[1].AsSpan(lengths[1] * dim, dim)];
        using var x = d.Upload<float>(newRows);
        using var pos = d.Upload<int>(lengths);
        using var len = d.Upload<int>(lengths.Select(n => n + 1).ToArray());
        nint y = 0;
        if (graph)
        {
            using var g = CudaGraph.Capture(d, () => y = stack.DecodeStep(x.Pointer, pos.Pointer, len.Pointer));
            g.Launch();
        }
        else y = stack.DecodeStep(x.Pointer, pos.Pointer, len.Pointer);
        float[] got = Download(d, y, 2 * dim);
        for (int b = 0; b < 2; b++)
        {
            float[] reference = Reference(w, layers, dim, heads, ff, true, null, 0, full[b], lengths[b] + 1, textLength, true);
            AssertClose(got.AsSpan(b * dim, dim), reference.AsSpan(lengths[b] * dim, dim), 1e-4f, $"sequence {b} graph={graph}");
        }
    }
}
