using VallE.Runtime.Cpu;

namespace VallE.Runtime.Models;

/// <summary>
/// Upstream's text prenet (<c>add_prenet=True</c>): three × [Conv1d(k=5, padding="same") → BatchNorm1d (eval:
/// running statistics) → ReLU] over the time axis, then a Linear. Runs once per utterance on the whole text.
/// </summary>
internal sealed class TextPrenet
{
    private readonly ConvBlock[] _blocks;
    private readonly LinearWeights _linear;
    public int Dim { get; }

    public TextPrenet(ConvBlock[] blocks, LinearWeights linear, int dim)
    {
        _blocks = blocks;
        _linear = linear;
        Dim = dim;
    }

    /// <summary>x: [rows, Dim] (one sequence), transformed in place.</summary>
    public void Apply(CpuBackend backend, Span<float> x, int rows)
    {
        var tmp = new float[rows * Dim];
        foreach (var block in _blocks)
        {
            block.Apply(x, rows, tmp);
            tmp.AsSpan().CopyTo(x);
        }
        _linear.Forward(backend, x[..(rows * Dim)], rows, tmp);
        tmp.AsSpan().CopyTo(x);
    }

    /// <summary>Conv1d(Dim, Dim, 5, padding 2) + BatchNorm1d folded to per-channel scale/shift + ReLU.</summary>
    internal sealed class ConvBlock(float[] weight, float[] bias, float[] bnScale, float[] bnShift, int dim, int kernel)
    {
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
}

/// <summary>Upstream's audio prenet: Linear(d, 256) → ReLU → Linear(256, 256) → ReLU → Linear(256, d), per position.</summary>
internal sealed class AudioPrenet(LinearWeights l0, LinearWeights l3, LinearWeights l6)
{
    public int Dim => l0.InFeatures;

    /// <summary>x: [rows, Dim] transformed in place; <paramref name="scratch"/> holds at least rows * 512 floats.</summary>
    public void Apply(CpuBackend backend, Span<float> x, int rows, Span<float> scratch)
    {
        var a = scratch[..(rows * l0.OutFeatures)];
        var b = scratch.Slice(rows * l0.OutFeatures, rows * l3.OutFeatures);
        l0.Forward(backend, x[..(rows * Dim)], rows, a);
        System.Numerics.Tensors.TensorPrimitives.Max(a, 0f, a);
        l3.Forward(backend, a, rows, b);
        System.Numerics.Tensors.TensorPrimitives.Max(b, 0f, b);
        l6.Forward(backend, b, rows, x[..(rows * Dim)]);
    }

    public int ScratchPerRow => l0.OutFeatures + l3.OutFeatures;
}
