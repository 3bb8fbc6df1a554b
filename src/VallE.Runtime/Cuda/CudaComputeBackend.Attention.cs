using VallE.Runtime.Backends;

namespace VallE.Runtime.Cuda;

// Attention of CudaComputeBackend over the packed q | k | v rows ([rows, 3·dim]: q at column 0, k at dim, v at 2·dim).
public sealed partial class CudaComputeBackend
{
    /// <summary>
    /// Per segment: valle_kv_append of its keys/values into cache slot <see cref="AttentionSegment.Slot"/> (caches
    /// with history), then valle_attention_prefill. A segment starting at position 0 (a whole sequence, or the first
    /// range of one) reads its keys and values straight from <paramref name="qkv"/>; a one-row segment continuing a
    /// cached sequence (Start &gt; 0) reads them from the cache. Several rows continuing a cached sequence throw
    /// <see cref="NotSupportedException"/>, as does any Start &gt; 0 on a cache without history.
    /// </summary>
    public void Attention(DeviceKvCache cache, int layer, int heads, TensorRows qkv, ReadOnlySpan<AttentionSegment> segments, TensorRows output)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var c = Own<CudaKvCache>(cache, nameof(cache));
        var qt = Own(qkv, TensorType.F32, nameof(qkv));
        var ot = Own(output, TensorType.F32, nameof(output));
        int d = c.Dim, hd = CheckAttention("Attention", c, layer, heads, qkv, output);
        float scale = 1f / MathF.Sqrt(hd);
        foreach (var seg in segments)
        {
            if (seg.Row < 0 || seg.Length < 0 || seg.Row + seg.Length > qkv.Count)
                throw new ArgumentOutOfRangeException(nameof(segments), $"Attention: rows [{seg.Row}, {seg.Row + seg.Length}) of a pass of {qkv.Count}");
            if ((uint)seg.Slot >= (uint)c.Slots)
                throw new ArgumentOutOfRangeException(nameof(segments), $"Attention: slot {seg.Slot} of {c.Slots}");
            if (seg.Start < 0 || (c.KeepsHistory && seg.Start + seg.Length > c.Capacity))
                throw new ArgumentOutOfRangeException(nameof(segments), $"Attention: positions [{seg.Start}, {seg.Start + seg.Length}) of a cache of {c.Capacity}");
            if (seg.Causal && seg.TextLength > seg.Start + seg.Length)
                throw new ArgumentException($"Attention: a causal segment ending at {seg.Start + seg.Length}, inside its {seg.TextLength} text positions", nameof(segments));
            if (seg.Length == 0) continue;
            if (seg.Start > 0 && (seg.Length > 1 || !c.KeepsHistory))
                throw new NotSupportedException(c.KeepsHistory
                    ? $"CUDA attention continues a cached sequence one row at a time, not {seg.Length} rows from position {seg.Start}"
                    : $"{c.Name} keeps no history: its passes start at position 0, not {seg.Start}");

            nint q = qt.At(qkv) + (nint)((long)seg.Row * 3 * d * sizeof(float));
            nint k = q + d * sizeof(float), v = q + 2 * d * sizeof(float);
            nint o = ot.At(output) + (nint)((long)seg.Row * d * sizeof(float));
            if (c.KeepsHistory)
            {
                long slot = c.SlotOffset(seg.Slot);
                CudaKernels.KvAppend(_device, k, v, 3 * d, 0, CudaDType.F32, c.K(layer).At<float>(slot), c.V(layer).At<float>(slot),
                    c.Capacity, 1, seg.Length, d, seg.Start, 0);
                if (seg.Start > 0)
                {
                    // One query at position Start over the cached keys [0, Start], the mask applied by the kernel.
                    CudaKernels.AttentionPrefill(_device, CudaDType.F32, q, 3 * d, 0, c.K(layer).At<float>(slot), c.V(layer).At<float>(slot),
                        d, 0, o, d, 0, 1, 1, seg.Start + 1, heads, hd, seg.Start, seg.TextLength, seg.Causal, scale);
                    continue;
                }
            }
            // Start = 0: the whole visible sequence is in this pass, so keys and values come from the packed rows.
            CudaKernels.AttentionPrefill(_device, CudaDType.F32, q, 3 * d, 0, k, v, 3 * d, 0, o, d, 0, 1, seg.Length, seg.Length, heads, hd,
                0, seg.TextLength, seg.Causal, scale);
        }
    }

    /// <summary>
    /// valle_kv_append at position <c>lengths[r] - 1</c> (d_pos = lengths, pos0 = -1), then valle_attention_decode over
    /// <c>lengths[r]</c> keys (d_kv_len = lengths). Slots 0..n-1 in order: one batched launch of each; otherwise one
    /// launch of each per row, with the cache, q, output and lengths pointers offset to that row's slot and row.
    /// </summary>
    public void AttentionDecode(DeviceKvCache cache, int layer, int heads, TensorRows qkv, ReadOnlySpan<int> slots, TensorRows lengths,
        TensorRows output)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var c = Own<CudaKvCache>(cache, nameof(cache));
        var qt = Own(qkv, TensorType.F32, nameof(qkv));
        var lt = Own(lengths, TensorType.I32, nameof(lengths));
        var ot = Own(output, TensorType.F32, nameof(output));
        int d = c.Dim, hd = CheckAttention("AttentionDecode", c, layer, heads, qkv, output);
        if (!c.KeepsHistory) throw new InvalidOperationException($"AttentionDecode: {c.Name} keeps no history");
        CheckWidth("AttentionDecode", lengths, 1, nameof(lengths));
        SameRows("AttentionDecode", qkv, lengths);
        if (slots.Length != qkv.Count)
            throw new ArgumentException($"AttentionDecode: {slots.Length} slots for {qkv.Count} rows", nameof(slots));
        CheckSlots("AttentionDecode", slots, c.Slots);
        CheckDistinct(slots);
        int rows = qkv.Count;
        if (rows == 0) return;
        long need = CudaKernels.AttentionDecodePartialsFloats(IsIdentity(slots) ? rows : 1, heads, hd, c.Capacity);
        if (need > c.PartialsFloats) throw new InvalidOperationException($"AttentionDecode: scratch of {c.PartialsFloats} floats, {need} needed");
        float scale = 1f / MathF.Sqrt(hd);
        nint q0 = qt.At(qkv), o0 = ot.At(output), len0 = lt.At(lengths);
        nint kC = c.K(layer).Pointer, vC = c.V(layer).Pointer, partials = c.Partials!.Pointer;
        if (IsIdentity(slots))
        {
            CudaKernels.KvAppend(_device, q0 + d * sizeof(float), q0 + 2 * d * sizeof(float), 3 * d, 3L * d, CudaDType.F32, kC, vC, c.Capacity,
                rows, 1, d, -1, len0);
            CudaKernels.AttentionDecode(_device, CudaDType.F32, q0, 3 * d, CudaDType.F32, kC, vC, c.Capacity, c.Capacity, len0, o0, d,
                rows, heads, hd, scale, partials);
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            nint q = q0 + (nint)((long)r * 3 * d * sizeof(float)), o = o0 + (nint)((long)r * d * sizeof(float)), len = len0 + r * sizeof(int);
            long slot = c.SlotOffset(slots[r]);
            nint k = c.K(layer).At<float>(slot), v = c.V(layer).At<float>(slot);
            CudaKernels.KvAppend(_device, q + d * sizeof(float), q + 2 * d * sizeof(float), 3 * d, 0, CudaDType.F32, k, v, c.Capacity,
                1, 1, d, -1, len);
            CudaKernels.AttentionDecode(_device, CudaDType.F32, q, 3 * d, CudaDType.F32, k, v, c.Capacity, c.Capacity, len, o, d,
                1, heads, hd, scale, partials);
        }
    }

    /// <summary>Shapes common to both attention ops; returns the head size.</summary>
    private static int CheckAttention(string op, CudaKvCache c, int layer, int heads, TensorRows qkv, TensorRows output)
    {
        if ((uint)layer >= (uint)c.Layers) throw new ArgumentOutOfRangeException(nameof(layer), $"{op}: layer {layer} of {c.Layers}");
        if (heads < 1 || c.Dim % heads != 0)
            throw new ArgumentException($"{op}: {heads} heads do not divide width {c.Dim}", nameof(heads));
        int hd = c.Dim / heads;
        if (!SupportsOp(new OpRequirement(OpKind.Attention, HeadDim: hd), out string why)) throw new NotSupportedException($"{op}: {why}");
        CheckWidth(op, qkv, 3 * c.Dim, nameof(qkv));
        CheckWidth(op, output, c.Dim, nameof(output));
        SameRows(op, qkv, output);
        if (Overlap(qkv, output)) throw new ArgumentException($"{op}: output overlaps qkv", nameof(output));
        return hd;
    }

    /// <summary>Whether <c>slots[r] == r</c> for every row (one batched launch serves them).</summary>
    internal static bool IsIdentity(ReadOnlySpan<int> slots)
    {
        for (int r = 0; r < slots.Length; r++)
            if (slots[r] != r) return false;
        return true;
    }

    /// <summary>Two rows of one decode step cannot be the same sequence (they would write the same cache position).</summary>
    internal static void CheckDistinct(ReadOnlySpan<int> slots)
    {
        for (int i = 1; i < slots.Length; i++)
            for (int j = 0; j < i; j++)
                if (slots[i] == slots[j])
                    throw new ArgumentException($"slot {slots[i]} appears twice in one decode step (rows {j} and {i})", nameof(slots));
    }
}
