namespace VallE.Runtime.Text.Vallex.Mandarin;

/// <summary>
/// A read-only word list with one integer per word, kept as one character pool plus offsets and sorted by UTF-16
/// code units (ordinal order), so that lookups are binary searches without a string per word. Besides exact
/// lookups it answers "is this a prefix of some word?", which jieba's dictionary (every prefix of a word is a key
/// with count 0) and pypinyin's phrase segmenter (its prefix set) both need.
/// </summary>
internal sealed class SortedWordTable
{
    private readonly char[] _pool;
    private readonly int[] _starts; // word i is _pool[_starts[i] .. _starts[i + 1])
    private readonly int[] _values;

    private SortedWordTable(char[] pool, int[] starts, int[] values)
    {
        _pool = pool;
        _starts = starts;
        _values = values;
    }

    public int Count => _values.Length;

    /// <summary>Characters of all words together (the table's size in memory is about 2 bytes each + 8 per word).</summary>
    public int PoolLength => _pool.Length;

    public ReadOnlySpan<char> Word(int index) => _pool.AsSpan(_starts[index], _starts[index + 1] - _starts[index]);

    public int Value(int index) => _values[index];

    /// <summary>The index of <paramref name="word"/>, or -1.</summary>
    public int IndexOf(ReadOnlySpan<char> word)
    {
        int i = LowerBound(word);
        return i < Count && Word(i).SequenceEqual(word) ? i : -1;
    }

    public bool TryGetValue(ReadOnlySpan<char> word, out int value)
    {
        int i = IndexOf(word);
        value = i >= 0 ? _values[i] : 0;
        return i >= 0;
    }

    /// <summary>True when some word starts with <paramref name="prefix"/> (the word itself counts).</summary>
    public bool HasWordStartingWith(ReadOnlySpan<char> prefix)
    {
        int i = LowerBound(prefix);
        return i < Count && Word(i).StartsWith(prefix);
    }

    /// <summary>The first index whose word is not ordinally less than <paramref name="key"/>.</summary>
    private int LowerBound(ReadOnlySpan<char> key)
    {
        int lo = 0, hi = Count;
        while (lo < hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            if (Word(mid).SequenceCompareTo(key) < 0) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    /// <summary>Collects words in ordinal order; <see cref="Build"/> checks that order.</summary>
    internal sealed class Builder
    {
        private readonly List<char> _pool;
        private readonly List<int> _starts;
        private readonly List<int> _values;
        private readonly string _source;

        public Builder(string source, int wordCapacity = 0, int charCapacity = 0)
        {
            _source = source;
            _pool = new List<char>(charCapacity);
            _starts = new List<int>(wordCapacity + 1) { 0 };
            _values = new List<int>(wordCapacity);
        }

        public int Count => _values.Count;

        public void Add(ReadOnlySpan<char> word, int value)
        {
            if (word.IsEmpty) throw new InvalidDataException($"{_source}: empty word");
            if (_values.Count > 0)
            {
                var previous = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pool)[_starts[^2].._starts[^1]];
                if (previous.SequenceCompareTo(word) >= 0)
                    throw new InvalidDataException($"{_source}: '{word}' is out of order or repeated (after '{previous}')");
            }
            _pool.AddRange(word);
            _starts.Add(_pool.Count);
            _values.Add(value);
        }

        public SortedWordTable Build() => new(_pool.ToArray(), _starts.ToArray(), _values.ToArray());
    }
}
