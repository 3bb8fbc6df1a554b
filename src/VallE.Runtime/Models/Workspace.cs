using VallE.Runtime.Cpu;

namespace VallE.Runtime.Models;

/// <summary>
/// Scratch buffers of one forward pass, sized once for the largest number of rows a session runs (its prefill or
/// its NAR pass) and reused for every layer and step: decoding allocates nothing.
/// </summary>
internal sealed class Workspace
{
    public float[] Normed { get; }
    public float[] Qkv { get; }
    public float[] Attn { get; }
    public float[] Proj { get; }
    public float[] Hidden { get; }
    public int MaxRows { get; }
    /// <summary>The backend every layer of the pass runs on (its threads, ISA and attention settings).</summary>
    public CpuBackend Backend { get; }
    internal AttentionJob Job { get; }

    public Workspace(int maxRows, int dim, int ffDim, int maxKeys, CpuBackend backend)
    {
        MaxRows = maxRows;
        Backend = backend;
        Normed = new float[maxRows * dim];
        Qkv = new float[maxRows * 3 * dim];
        Attn = new float[maxRows * dim];
        Proj = new float[maxRows * dim];
        Hidden = new float[maxRows * ffDim];
        // One score buffer per worker of the backend (worker indices are below backend.Threads).
        Job = new AttentionJob(this, maxKeys, dim, backend.Threads);
    }
}

/// <summary>
/// The attention of every (row, head) of a pass as one parallel loop. Single-row segments (decode steps) give one
/// item per (row, head) (<see cref="BlockAttention.AttendRow"/>); longer segments (NAR stages, prefill) give one item per
/// (block of <see cref="BlockAttention.Rows"/> rows, head), which reuses each loaded key/value vector for every row of
/// the block. Reads the projected q/k/v from <see cref="Workspace.Qkv"/> and writes <see cref="Workspace.Attn"/>.
/// </summary>
internal sealed class AttentionJob : IParallelJob
{
    private readonly Workspace _ws;
    private readonly Segment[] _segments;
    // Work units before the head split: a row (per-row path) or a block of rows; unit u, head h is item u·heads + h.
    private readonly int[] _unitSegment;
    private readonly int[] _unitRow;
    private readonly int[] _unitCount;
    private readonly float[][] _scores;
    private readonly float[][] _q;
    private TransformerLayer? _layer;
    private bool _blocked;   // the layer's pass uses BlockAttention (fixed by the backend and the head size)

    public AttentionJob(Workspace ws, int maxKeys, int dim, int workers)
    {
        _ws = ws;
        _segments = new Segment[ws.MaxRows];
        _unitSegment = new int[ws.MaxRows];
        _unitRow = new int[ws.MaxRows];
        _unitCount = new int[ws.MaxRows];
        _scores = new float[workers][];
        _q = new float[workers][];
        int blockScores = BlockAttention.Rows * ((maxKeys + 15) & ~15);
        for (int w = 0; w < workers; w++)
        {
            _scores[w] = new float[Math.Max(maxKeys, blockScores)];
            _q[w] = new float[BlockAttention.Rows * dim];
        }
    }

    /// <summary>Prepares the items of one layer's pass; returns how many there are.</summary>
    public int Set(TransformerLayer layer, ReadOnlySpan<Segment> segments)
    {
        _layer = layer;
        segments.CopyTo(_segments);
        bool blocked = _blocked = BlockAttention.IsSupported(_ws.Backend, layer.HeadDim);
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
        return units * layer.Heads;
    }

    public void Execute(int item, int worker)
    {
        var layer = _layer!;
        int unit = item / layer.Heads, head = item % layer.Heads;
        ref readonly Segment s = ref _segments[_unitSegment[unit]];
        int row = _unitRow[unit];
        int d = layer.Dim;
        if (s.Length > 1 && _blocked)
        {
            BlockAttention.Attend(layer, _ws.Qkv, s, row, _unitCount[unit], head, _scores[worker], _q[worker], _ws.Attn);
            return;
        }
        if (_blocked)
        {
            BlockAttention.AttendRow(layer, _ws.Qkv, s, row, head, _scores[worker], _q[worker], _ws.Attn);
            return;
        }
        int pos = s.Start + (row - s.Row);
        layer.AttendOne(_ws.Qkv.AsSpan(row * 3 * d, 3 * d), s, pos, head, _scores[worker], _ws.Attn.AsSpan(row * d, d));
    }
}
