namespace VallE.Runtime.Cpu;

/// <summary>
/// Keys and values of one sequence, per layer, channel-major: <c>K[layer][(h * headDim + i) * Capacity + pos]</c>.
/// Channel-major makes a head's scores one long vector operation per channel over all positions (instead of one
/// short dot product per key), and each new position is a strided write of Dim values.
/// Allocated once for the longest sequence the session may reach, so decoding never allocates.
/// The NAR, which recomputes its whole sequence per stage and needs no history, shares one slot for all layers.
/// </summary>
internal sealed class KvCache
{
    private readonly float[][] _keys;
    private readonly float[][] _values;
    private readonly bool _sharedSlot;

    public int Capacity { get; }
    public int Dim { get; }

    public KvCache(int layers, int capacity, int dim, bool shareOneSlot = false)
    {
        int slots = shareOneSlot ? 1 : layers;
        _keys = new float[slots][];
        _values = new float[slots][];
        for (int l = 0; l < slots; l++)
        {
            _keys[l] = new float[(long)capacity * dim];
            _values[l] = new float[(long)capacity * dim];
        }
        _sharedSlot = shareOneSlot;
        Capacity = capacity;
        Dim = dim;
    }

    public float[] Keys(int layer) => _keys[_sharedSlot ? 0 : layer];
    public float[] Values(int layer) => _values[_sharedSlot ? 0 : layer];
}
