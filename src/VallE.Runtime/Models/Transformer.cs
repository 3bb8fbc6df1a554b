using VallE.Runtime.Backends;

namespace VallE.Runtime.Models;

/// <summary>The activations one decoder pass needs besides its input rows, sized once for the largest pass of a call.</summary>
internal sealed class DecoderScratch : IDisposable
{
    public DecoderScratch(IComputeBackend backend, int maxRows, int dim, int feedForward)
    {
        int rows = Math.Max(1, maxRows);
        Normed = backend.Allocate(TensorType.F32, rows, dim);
        Qkv = backend.Allocate(TensorType.F32, rows, 3 * dim);
        Attn = backend.Allocate(TensorType.F32, rows, dim);
        Proj = backend.Allocate(TensorType.F32, rows, dim);
        Hidden = backend.Allocate(TensorType.F32, rows, feedForward);
    }

    public Tensor Normed { get; }
    public Tensor Qkv { get; }
    public Tensor Attn { get; }
    public Tensor Proj { get; }
    public Tensor Hidden { get; }

    public void Dispose()
    {
        Normed.Dispose();
        Qkv.Dispose();
        Attn.Dispose();
        Proj.Dispose();
        Hidden.Dispose();
    }
}

/// <summary>
/// Upstream's TransformerEncoder (torch MultiheadAttention with packed QKV, ReLU FFN, pre- or post-norm, LayerNorm
/// or AdaLN), written once over <see cref="IComputeBackend"/> operations:
/// <code>
/// pre-norm : x = x + SelfAttn(norm1(x));  x = x + FFN(norm2(x))      ... then the final norm
/// post-norm: x = norm1(x + SelfAttn(x));  x = norm2(x + FFN(x))
/// </code>
/// A pass (<see cref="Forward"/>: AR prefill, NAR stage) attends within segments; a decode step
/// (<see cref="Decode"/>) adds one position per sequence to its KV cache. The residual
/// stream (<c>x</c>), updated in place; its rows are the output.
/// </summary>
internal static class Transformer
{
    /// <summary>How the layers attend: over segments of a pass, or one new position per sequence.</summary>
    private readonly ref struct AttentionPlan(ReadOnlySpan<AttentionSegment> segments, ReadOnlySpan<int> slots, TensorRows lengths, bool decode)
    {
        public readonly ReadOnlySpan<AttentionSegment> Segments = segments;
        public readonly ReadOnlySpan<int> Slots = slots;
        public readonly TensorRows Lengths = lengths;
        public readonly bool Decode = decode;
    }

    /// <param name="stage">NAR: the codebook stage 1..7 (AdaLN); 0 for the AR.</param>
    /// <param name="cancellation">checked before every layer: a full-size NAR pass or a long prefill takes about a
    /// second on two CPU cores, a layer a twelfth of that, so Ctrl-C stops well within a second.</param>
    public static void Forward(IComputeBackend b, DecoderWeights w, DeviceKvCache cache, TensorRows x, ReadOnlySpan<AttentionSegment> segments,
        int stage, DecoderScratch scratch, CancellationToken cancellation)
    {
        var plan = new AttentionPlan(segments, default, default, decode: false);
        Run(b, w, cache, x, plan, stage, scratch, cancellation);
    }

    /// <summary>One AR step: row r is the newest position of the sequence in slot <c>slots[r]</c>, whose KV length
    /// after the step is <c>lengths[r]</c>.</summary>
    public static void Decode(IComputeBackend b, DecoderWeights w, DeviceKvCache cache, TensorRows x, ReadOnlySpan<int> slots, TensorRows lengths,
        DecoderScratch scratch, CancellationToken cancellation)
    {
        var plan = new AttentionPlan(default, slots, lengths, decode: true);
        Run(b, w, cache, x, plan, 0, scratch, cancellation);
    }

    private static void Run(IComputeBackend b, DecoderWeights w, DeviceKvCache cache, TensorRows x, in AttentionPlan plan, int stage,
        DecoderScratch scratch, CancellationToken cancellation)
    {
        int rows = x.Count;
        var h = scratch.Normed.Slice(0, rows);
        var qkv = scratch.Qkv.Slice(0, rows);
        var attn = scratch.Attn.Slice(0, rows);
        var proj = scratch.Proj.Slice(0, rows);
        var hidden = scratch.Hidden.Slice(0, rows);

        for (int l = 0; l < w.Layers.Length; l++)
        {
            cancellation.ThrowIfCancellationRequested();
            var L = w.Layers[l];

            // Self-attention block.
            var input = x;
            if (w.NormFirst)
            {
                b.Norm(L.Norm1, stage, x, h);
                input = h;
            }
            b.Linear(L.InProj, input, qkv);
            if (plan.Decode) b.AttentionDecode(cache, l, w.Heads, qkv, plan.Slots, plan.Lengths, attn);
            else b.Attention(cache, l, w.Heads, qkv, plan.Segments, attn);
            b.Linear(L.OutProj, attn, proj);
            if (w.NormFirst) b.AddNorm(L.Norm2, stage, x, proj, h);   // x += attn; h = norm2(x)
            else b.AddNorm(L.Norm1, stage, x, proj, x);              // x = norm1(x + attn)

            // Feed-forward block.
            b.Linear(L.Linear1, w.NormFirst ? h : x, hidden, Activation.Relu);
            b.Linear(L.Linear2, hidden, proj);
            if (w.NormFirst) b.Add(x, proj);
            else b.AddNorm(L.Norm2, stage, x, proj, x);
        }
        if (w.FinalNorm is not null) b.Norm(w.FinalNorm, stage, x, x);
    }
}

/// <summary>The inputs of the decoders: text and audio embeddings with their prenets and positions, over operations.</summary>
internal static class Inputs
{
    /// <summary>
    /// <c>position(prenet(embedding(text) + language))</c> of one sequence. <paramref name="ids"/>: int32 rows of
    /// (text token, language id); the language column is read only when <paramref name="language"/> is given.
    /// <paramref name="scratchTensor"/>: at least as many rows as <paramref name="x"/> (used with a prenet only).
    /// </summary>
    public static void Text(IComputeBackend b, DeviceTable embedding, DeviceTable? language, TextPrenetWeights? prenet, DevicePositions position,
        TensorRows ids, TensorRows x, Tensor scratchTensor)
    {
        if (language is null) b.GatherSum([embedding], ids, x);
        else b.GatherSum([embedding, language], ids, x);
        if (prenet is not null)
        {
            var scratch = scratchTensor.Slice(0, x.Count);
            b.Conv(prenet.Blocks[0], x, scratch);
            b.Conv(prenet.Blocks[1], scratch, x);
            b.Conv(prenet.Blocks[2], x, scratch);
            b.Linear(prenet.Linear, scratch, x);
        }
        b.AddPositions(position, x, 0);
    }

    /// <summary>The audio prenet in place on <paramref name="x"/>; <paramref name="a"/>, <paramref name="c"/>: at least x's rows of 256 (scratch).</summary>
    public static void AudioPrenet(IComputeBackend b, AudioPrenetWeights? prenet, TensorRows x, Tensor a, Tensor c)
    {
        if (prenet is null) return;
        b.Linear(prenet.L0, x, a.Slice(0, x.Count), Activation.Relu);
        b.Linear(prenet.L3, a.Slice(0, x.Count), c.Slice(0, x.Count), Activation.Relu);
        b.Linear(prenet.L6, c.Slice(0, x.Count), x);
    }

    /// <summary>Width of the audio prenet's hidden layers (scratch columns).</summary>
    public const int AudioPrenetWidth = 256;
}
