using System.Runtime.InteropServices;
using VallE.Runtime.Backends;

namespace VallE.Runtime.Models.Ecker;

/// <summary>
/// The input sequence of one pass, built on the host: segments <c>phn ⟨sep⟩ lang ⟨sep⟩ rvq-level ⟨sep⟩ prompt ⟨sep⟩
/// output</c>, each a run of rows whose embedding is the sum of some tables looked up at some id columns, and the
/// position id of every row. Positions restart at 0 per segment (upstream's <c>unified_position_ids=False</c>): a
/// segment followed by a sep covers <c>len + 1</c> positions (the sep takes the next index), the output segment
/// <c>len</c>; with unified positions they count 0..N-1 over the whole sequence.
/// </summary>
internal sealed class EckerSequence(int idColumns, bool unifiedPositions)
{
    private readonly List<(DeviceTable[] Tables, int Row, int Rows)> _pieces = [];
    private readonly List<int> _ids = [];
    private readonly List<int> _positions = [];

    public int Columns { get; } = Math.Max(1, idColumns);
    public int Rows => _positions.Count;
    public IReadOnlyList<int> Positions => _positions;

    /// <summary>A segment: row r sums <c>tables[j][ids[r][j]]</c>; <paramref name="ids"/> row-major <c>[rows, tables.Length]</c>.</summary>
    public EckerSequence Segment(DeviceTable[] tables, ReadOnlySpan<int> ids, int rows, DeviceTable? sepAfter)
    {
        if (ids.Length != rows * tables.Length) throw new ArgumentException($"{ids.Length} ids for {rows} rows of {tables.Length} tables");
        if (tables.Length > Columns) throw new ArgumentException($"{tables.Length} tables for {Columns} id columns");
        int first = Rows;
        if (rows > 0) _pieces.Add((tables, first, rows));
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < Columns; j++) _ids.Add(j < tables.Length ? ids[r * tables.Length + j] : 0);
            _positions.Add(unifiedPositions ? first + r : r);
        }
        if (sepAfter is not null)
        {
            _pieces.Add(([sepAfter], Rows, 1));
            for (int j = 0; j < Columns; j++) _ids.Add(0);
            _positions.Add(unifiedPositions ? Rows : rows);
        }
        return this;
    }

    /// <summary>Writes the embeddings into <paramref name="x"/> and the position ids into <paramref name="positions"/> (int32 column).</summary>
    public void Embed(IComputeBackend b, TensorRows x, TensorRows positions, Tensor idScratch) =>
        Embed(b, x, positions, idScratch.Slice(0, Rows));

    /// <summary>
    /// As above into views of a larger batch (several sequences side by side): <paramref name="ids"/> gets this
    /// sequence's id rows, which <see cref="Gather"/> reads again later.
    /// </summary>
    public void Embed(IComputeBackend b, TensorRows x, TensorRows positions, TensorRows ids)
    {
        if (x.Count != Rows || positions.Count != Rows || ids.Count != Rows)
            throw new ArgumentException($"sequence of {Rows} rows into {x.Count} / {positions.Count} / {ids.Count}");
        b.Write(ids, CollectionsMarshal.AsSpan(_ids));
        b.Write(positions, CollectionsMarshal.AsSpan(_positions));
        Gather(b, x, ids);
    }

    /// <summary>
    /// Only the table look-ups, from the ids already on the device (<paramref name="ids"/>, as <see cref="Embed(IComputeBackend, TensorRows, TensorRows, TensorRows)"/>
    /// wrote them, possibly with the output segment's ids rewritten since): a pass over the same layout with new output
    /// tokens (NAR-len demasking) re-embeds without rebuilding the sequence or re-uploading the prefix.
    /// </summary>
    public void Gather(IComputeBackend b, TensorRows x, TensorRows ids)
    {
        if (x.Count != Rows || ids.Count != Rows) throw new ArgumentException($"sequence of {Rows} rows into {x.Count} / {ids.Count}");
        foreach (var (tables, row, rows) in _pieces)
            b.GatherSum(tables, ids.Slice(row, rows), x.Slice(row, rows));
    }
}
