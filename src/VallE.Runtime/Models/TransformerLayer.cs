using System.Numerics.Tensors;
using VallE.Runtime.Cpu;

namespace VallE.Runtime.Models;

/// <summary>
/// One upstream TransformerEncoderLayer (torch-style MultiheadAttention with packed QKV, ReLU FFN), pre-norm or
/// post-norm, with plain or adaptive norms:
/// <code>
/// pre-norm : x = x + SelfAttn(norm1(x));  x = x + FFN(norm2(x))
/// post-norm: x = norm1(x + SelfAttn(x));  x = norm2(x + FFN(x))
/// </code>
/// Works on a stack of <see cref="Segment"/>s: new keys/values are written into each sequence's cache first,
/// then every row attends to the keys its segment lets it see.
/// </summary>
internal sealed class TransformerLayer
{
    public required int Index { get; init; }
    public required int Dim { get; init; }
    public required int Heads { get; init; }
    public required bool NormFirst { get; init; }
    public required LinearWeights InProj { get; init; }   // [3*Dim, Dim]: q, k, v stacked (in_proj_weight)
    public required LinearWeights OutProj { get; init; }  // [Dim, Dim]
    public required LinearWeights Linear1 { get; init; }  // [4*Dim, Dim]
    public required LinearWeights Linear2 { get; init; }  // [Dim, 4*Dim]
    public required RowNorm Norm1 { get; init; }
    public required RowNorm Norm2 { get; init; }

    public int HeadDim => Dim / Heads;

    public void Forward(Span<float> x, int rows, ReadOnlySpan<Segment> segments, int stage, Workspace ws)
    {
        int d = Dim;
        var h = ws.Normed.AsSpan(0, rows * d);
        var attn = ws.Attn.AsSpan(0, rows * d);
        var proj = ws.Proj.AsSpan(0, rows * d);

        // Self-attention block.
        if (NormFirst) Norm1.Apply(x, h, rows, stage);
        else x[..(rows * d)].CopyTo(h);
        SelfAttention(h, rows, segments, ws);
        OutProj.Forward(ws.Backend, attn, rows, proj);
        TensorPrimitives.Add(x[..(rows * d)], proj, x);
        if (!NormFirst) Norm1.Apply(x, x, rows, stage);

        // Feed-forward block.
        if (NormFirst) Norm2.Apply(x, h, rows, stage);
        else x[..(rows * d)].CopyTo(h);
        var hidden = ws.Hidden.AsSpan(0, rows * Linear1.OutFeatures);
        Linear1.Forward(ws.Backend, h, rows, hidden);
        TensorPrimitives.Max(hidden, 0f, hidden); // ReLU
        Linear2.Forward(ws.Backend, hidden, rows, proj);
        TensorPrimitives.Add(x[..(rows * d)], proj, x);
        if (!NormFirst) Norm2.Apply(x, x, rows, stage);
    }

    /// <summary>Writes the attention of every row (before out_proj) to <see cref="Workspace.Attn"/>.</summary>
    private void SelfAttention(ReadOnlySpan<float> h, int rows, ReadOnlySpan<Segment> segments, Workspace ws)
    {
        int d = Dim;
        var qkv = ws.Qkv.AsSpan(0, rows * 3 * d);
        InProj.Forward(ws.Backend, h, rows, qkv);

        // Keys and values of the new positions go to their caches before anyone attends to them
        // (a prefill's text rows attend to text rows that come later in the same segment).
        foreach (var s in segments)
        {
            var keys = s.Cache.Keys(Index);
            var values = s.Cache.Values(Index);
            int cap = s.Cache.Capacity;
            for (int i = 0; i < s.Length; i++)
            {
                var row = qkv.Slice((s.Row + i) * 3 * d, 3 * d);
                int pos = s.Start + i;
                for (int c = 0; c < d; c++)
                {
                    keys[c * cap + pos] = row[d + c];
                    values[c * cap + pos] = row[2 * d + c];
                }
            }
        }

        // Rows of different sequences and heads are independent: one parallel loop over all of them.
        var job = ws.Job;
        int items = job.Set(this, segments);
        ws.Backend.For(items, ref job);
    }

    /// <summary>softmax(q·Kᵀ / √headDim) · V for one (row, head); the unit of parallel work.</summary>
    internal void AttendOne(ReadOnlySpan<float> qkvRow, in Segment s, int pos, int head, Span<float> scores, Span<float> output)
    {
        int hd = HeadDim;
        int n = s.VisibleKeys(pos);
        var keys = s.Cache.Keys(Index);
        var values = s.Cache.Values(Index);
        // torch scales q before the product (q / sqrt(E)); doing the same keeps the rounding alike.
        Span<float> q = stackalloc float[hd];
        TensorPrimitives.Multiply(qkvRow.Slice(head * hd, hd), 1f / MathF.Sqrt(hd), q);
        int cap = s.Cache.Capacity;
        var sc = scores[..n];
        sc.Clear();
        for (int e = 0; e < hd; e++)
            TensorPrimitives.MultiplyAdd(keys.AsSpan((head * hd + e) * cap, n), q[e], sc, sc);
        // Max-subtracted softmax, as torch's: TensorPrimitives.SoftMax exponentiates raw scores and overflows to NaN
        // once a score passes ~88.
        TensorPrimitives.Subtract(sc, TensorPrimitives.Max(sc), sc);
        TensorPrimitives.Exp(sc, sc);
        TensorPrimitives.Divide(sc, TensorPrimitives.Sum(sc), sc);
        var o = output.Slice(head * hd, hd);
        for (int e = 0; e < hd; e++)
            o[e] = TensorPrimitives.Dot(sc, values.AsSpan((head * hd + e) * cap, n));
    }
}
