using System.Numerics.Tensors;

namespace VallE.Runtime.Cpu;

/// <summary>The layer an attention pass belongs to (its cache slot index) and its width and heads.</summary>
internal readonly record struct AttentionShape(int Layer, int Dim, int Heads)
{
    public int HeadDim => Dim / Heads;
}

/// <summary>The per-row attention path: one query row, one head; the unit of parallel work where blocks do not apply.</summary>
internal static class RowAttention
{
    /// <summary>softmax(q·Kᵀ / √headDim) · V for one (row, head) of <paramref name="qkvRow"/> at position <paramref name="pos"/>.</summary>
    public static void Attend(in AttentionShape shape, ReadOnlySpan<float> qkvRow, in Segment s, int pos, int head, Span<float> scores, Span<float> output)
    {
        int hd = shape.HeadDim;
        int n = s.VisibleKeys(pos);
        var keys = s.Cache.Keys(shape.Layer);
        var values = s.Cache.Values(shape.Layer);
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

/// <summary>
/// The attention of every (row, head) of a pass as one parallel loop on a <see cref="CpuBackend"/>. Single-row
/// segments (decode steps) give one item per (row, head) (<see cref="BlockAttention.AttendRow"/>); longer segments
/// (NAR stages, prefill) give one item per (block of <see cref="BlockAttention.Rows"/> rows, head), which reuses each
/// loaded key/value vector for every row of the block. Reads q/k/v rows <c>[3·Dim]</c> from <c>qkv</c>, writes
/// <c>[Dim]</c> rows of <c>output</c> (segment rows index both from their given offsets). Its buffers grow to the
/// largest pass seen and are then reused: decoding allocates nothing.
/// </summary>
internal sealed class AttentionJob(CpuBackend backend) : IParallelJob
{
    private Segment[] _segments = [];
    // Work units before the head split: a row (per-row path) or a block of rows; unit u, head h is item u·heads + h.
    private int[] _unitSegment = [], _unitRow = [], _unitCount = [];
    private float[][] _scores = [];
    private float[][] _q = [];
    private int _scoreLength, _qLength;
    private float[] _qkv = [], _output = [];
    private int _qkvOffset, _outputOffset;
    private AttentionShape _shape;
    private bool _blocked;

    /// <summary>Runs one layer's attention over <paramref name="segments"/> (rows relative to the offsets).</summary>
    public void Run(in AttentionShape shape, ReadOnlySpan<Segment> segments, float[] qkv, int qkvOffset, float[] output, int outputOffset,
        int rows, int maxKeys)
    {
        Reserve(rows, segments.Length, maxKeys, shape.Dim);
        _shape = shape;
        _qkv = qkv;
        _qkvOffset = qkvOffset;
        _output = output;
        _outputOffset = outputOffset;
        segments.CopyTo(_segments);
        bool blocked = _blocked = BlockAttention.IsSupported(backend, shape.HeadDim);
        int units = 0;
        for (int s = 0; s < segments.Length; s++)
        {
            int step = blocked && segments[s].Length > 1 ? BlockAttention.Rows : 1;
            for (int i = 0; i < segments[s].Length; i += step)
            {
                _unitSegment[units] = s;
                _unitRow[units] = segments[s].Row + i;
                _unitCount[units] = Math.Min(step, segments[s].Length - i);
                units++;
            }
        }
        var job = this;
        backend.For(units * shape.Heads, ref job);
        _qkv = _output = [];
    }

    private void Reserve(int rows, int segments, int maxKeys, int dim)
    {
        if (_segments.Length < segments) _segments = new Segment[segments];
        if (_unitRow.Length < rows)
        {
            _unitSegment = new int[rows];
            _unitRow = new int[rows];
            _unitCount = new int[rows];
        }
        int workers = backend.Threads;
        int scores = Math.Max(maxKeys, BlockAttention.Rows * ((maxKeys + 15) & ~15));
        int q = BlockAttention.Rows * dim;
        if (_scores.Length < workers || _scoreLength < scores)
        {
            _scoreLength = Math.Max(scores, _scoreLength);
            _scores = new float[workers][];
            for (int w = 0; w < workers; w++) _scores[w] = new float[_scoreLength];
        }
        if (_q.Length < workers || _qLength < q)
        {
            _qLength = Math.Max(q, _qLength);
            _q = new float[workers][];
            for (int w = 0; w < workers; w++) _q[w] = new float[_qLength];
        }
    }

    public void Execute(int item, int worker)
    {
        int heads = _shape.Heads, d = _shape.Dim;
        int unit = item / heads, head = item % heads;
        ref readonly Segment s = ref _segments[_unitSegment[unit]];
        int row = _unitRow[unit];
        var qkv = _qkv.AsSpan(_qkvOffset);
        var output = _output.AsSpan(_outputOffset);
        if (_blocked && s.Length > 1)
            BlockAttention.Attend(_shape, qkv, s, row, _unitCount[unit], head, _scores[worker], _q[worker], output);
        else if (_blocked)
            BlockAttention.AttendRow(_shape, qkv, s, row, head, _scores[worker], _q[worker], output);
        else
            RowAttention.Attend(_shape, qkv.Slice(row * 3 * d, 3 * d), s, s.Start + (row - s.Row), head, _scores[worker], output.Slice(row * d, d));
    }
}
