using VallE.Runtime.Backends;

namespace VallE.Runtime.Models.Ecker;

/// <summary>The activations of one pass besides the residual stream, sized once for the largest pass of a call.</summary>
internal sealed class EckerScratch : IDisposable
{
    public EckerScratch(IComputeBackend b, int maxRows, int dim, int feedForward)
    {
        int rows = Math.Max(1, maxRows);
        Normed = b.Allocate(TensorType.F32, rows, dim);
        Qkv = b.Allocate(TensorType.F32, rows, 3 * dim);
        Attn = b.Allocate(TensorType.F32, rows, dim);
        Proj = b.Allocate(TensorType.F32, rows, dim);
        GateUp = b.Allocate(TensorType.F32, rows, 2 * feedForward);
        Hidden = b.Allocate(TensorType.F32, rows, feedForward);
    }

    public Tensor Normed { get; }
    public Tensor Qkv { get; }
    public Tensor Attn { get; }
    public Tensor Proj { get; }
    public Tensor GateUp { get; }
    public Tensor Hidden { get; }

    public void Dispose()
    {
        foreach (var t in new[] { Normed, Qkv, Attn, Proj, GateUp, Hidden }) t.Dispose();
    }
}

/// <summary>
/// e-c-k-e-r/vall-e's LLaMA decoder over <see cref="IComputeBackend"/> operations, in place on the residual stream:
/// <code>
/// x += o(attn(rope(qkv(rms1(x)))))        q, k rotated at each row's segment position; causal or bidirectional
/// x += down(gelu(gate(rms2(x))) · up(rms2(x)))
/// ... then model.norm (RMSNorm)
/// </code>
/// A pass (<see cref="Forward"/>) attends within segments and fills the KV cache; a decode step
/// (<see cref="Decode"/>) adds one position per sequence to it.
/// </summary>
internal static class EckerTransformer
{
    public static void Forward(IComputeBackend b, EckerWeights w, DeviceKvCache cache, TensorRows x, TensorRows positions,
        ReadOnlySpan<AttentionSegment> segments, EckerScratch scratch, CancellationToken cancellation) =>
        Run(b, w, cache, x, positions, segments, default, default, decode: false, scratch, cancellation);

    /// <summary>One AR step: row r is the newest position of the sequence in slot <c>slots[r]</c>; its KV length after the step is <c>lengths[r]</c>.</summary>
    public static void Decode(IComputeBackend b, EckerWeights w, DeviceKvCache cache, TensorRows x, TensorRows positions,
        ReadOnlySpan<int> slots, TensorRows lengths, EckerScratch scratch, CancellationToken cancellation) =>
        Run(b, w, cache, x, positions, default, slots, lengths, decode: true, scratch, cancellation);

    private static void Run(IComputeBackend b, EckerWeights w, DeviceKvCache cache, TensorRows x, TensorRows positions,
        ReadOnlySpan<AttentionSegment> segments, ReadOnlySpan<int> slots, TensorRows lengths, bool decode, EckerScratch scratch,
        CancellationToken cancellation)
    {
        int rows = x.Count, heads = w.Config.Heads;
        var h = scratch.Normed.Slice(0, rows);
        var qkv = scratch.Qkv.Slice(0, rows);
        var attn = scratch.Attn.Slice(0, rows);
        var proj = scratch.Proj.Slice(0, rows);
        var gateUp = scratch.GateUp.Slice(0, rows);
        var hidden = scratch.Hidden.Slice(0, rows);
        for (int l = 0; l < w.Layers.Length; l++)
        {
            cancellation.ThrowIfCancellationRequested();
            var L = w.Layers[l];
            b.RmsNorm(L.InputNorm, x, h);
            b.Linear(L.Qkv, h, qkv);
            b.Rope(qkv, positions, heads, EckerWeights.RopeTheta);
            if (decode) b.AttentionDecode(cache, l, heads, qkv, slots, lengths, attn);
            else b.Attention(cache, l, heads, qkv, segments, attn);
            b.Linear(L.O, attn, proj);
            b.Add(x, proj);
            b.RmsNorm(L.PostNorm, x, h);
            b.Linear(L.GateUp, h, gateUp);
            b.GatedGelu(gateUp, hidden);
            b.Linear(L.Down, hidden, proj);
            b.Add(x, proj);
        }
        b.RmsNorm(w.FinalNorm, x, x);
    }
}
