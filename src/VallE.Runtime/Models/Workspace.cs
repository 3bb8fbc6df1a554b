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
    internal AttentionJob Job { get; }

    public Workspace(int maxRows, int dim, int ffDim, int maxKeys)
    {
        MaxRows = maxRows;
        Normed = new float[maxRows * dim];
        Qkv = new float[maxRows * 3 * dim];
        Attn = new float[maxRows * dim];
        Proj = new float[maxRows * dim];
        Hidden = new float[maxRows * ffDim];
        // One score buffer per CpuParallel worker (worker indices are below CpuParallel.Threads).
        Job = new AttentionJob(this, maxKeys, CpuParallel.Threads);
    }
}

/// <summary>
/// The attention of every (row, head) of a pass, as one parallel loop over <c>rows * heads</c> items. Reads the
/// projected q/k/v from <see cref="Workspace.Qkv"/> and writes <see cref="Workspace.Attn"/>.
/// </summary>
internal sealed class AttentionJob : IParallelJob
{
    private readonly Workspace _ws;
    private readonly Segment[] _segments;
    private readonly int[] _rowSegment;
    private readonly float[][] _scores;
    private TransformerLayer? _layer;

    public AttentionJob(Workspace ws, int maxKeys, int workers)
    {
        _ws = ws;
        _segments = new Segment[ws.MaxRows];
        _rowSegment = new int[ws.MaxRows];
        _scores = new float[workers][];
        for (int w = 0; w < workers; w++) _scores[w] = new float[maxKeys];
    }

    public void Set(TransformerLayer layer, ReadOnlySpan<Segment> segments)
    {
        _layer = layer;
        segments.CopyTo(_segments);
        for (int s = 0; s < segments.Length; s++)
            for (int i = 0; i < segments[s].Length; i++) _rowSegment[segments[s].Row + i] = s;
    }

    public void Execute(int item, int worker)
    {
        var layer = _layer!;
        int row = item / layer.Heads, head = item % layer.Heads;
        ref readonly Segment s = ref _segments[_rowSegment[row]];
        int pos = s.Start + (row - s.Row);
        int d = layer.Dim;
        layer.AttendOne(_ws.Qkv.AsSpan(row * 3 * d, 3 * d), s, pos, head, _scores[worker], _ws.Attn.AsSpan(row * d, d));
    }
}
