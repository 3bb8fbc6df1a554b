namespace VallE.Runtime.Text.Vallex.Mandarin;

/// <summary>
/// jieba 0.42.1's main dictionary (<c>dict.txt</c>: word, count): what its prefix dictionary answers, without a
/// string per entry. A fragment is "in the dictionary" when it is a word or a prefix of one (jieba stores prefixes
/// with count 0); a word's count is what jieba's route uses; <see cref="Total"/> is the sum of every line's count
/// (the one repeated word of dict.txt, "B超", counts twice there, as in jieba).
/// </summary>
internal sealed class JiebaDictionary
{
    private static readonly Lazy<JiebaDictionary> s_default = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly SortedWordTable _words;

    private JiebaDictionary(SortedWordTable words, long total)
    {
        _words = words;
        Total = total;
        LogTotal = Math.Log(total);
    }

    /// <summary>The dictionary of jieba 0.42.1, loaded on first use.</summary>
    public static JiebaDictionary Default => s_default.Value;

    public long Total { get; }

    public double LogTotal { get; }

    public int WordCount => _words.Count;

    /// <summary>Characters held for all words together.</summary>
    public int PoolLength => _words.PoolLength;

    /// <summary>jieba's <c>frag in FREQ</c>: a word, or a prefix of one.</summary>
    public bool ContainsFragment(ReadOnlySpan<char> fragment) => _words.HasWordStartingWith(fragment);

    /// <summary>jieba's <c>FREQ.get(word)</c>: the count of a word, 0 for a prefix or an unknown fragment.</summary>
    public int Count(ReadOnlySpan<char> word) => _words.TryGetValue(word, out int count) ? count : 0;

    private static JiebaDictionary Load()
    {
        const string source = MandarinData.JiebaDictionary;
        string text = MandarinData.ReadText(source);
        var builder = new SortedWordTable.Builder(source, 350_000, 1_100_000);
        long total = -1;
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (line.IsEmpty) continue;
            int space = line.LastIndexOf(' ');
            if (space <= 0) throw new InvalidDataException($"{source}: bad line '{line}'");
            if (total < 0)
            {
                if (!line[..space].SequenceEqual("total")) throw new InvalidDataException($"{source}: no total line");
                total = MandarinData.ParseLong(line[(space + 1)..], source);
                continue;
            }
            builder.Add(line[..space], MandarinData.ParseInt(line[(space + 1)..], source));
        }
        if (total <= 0 || builder.Count == 0) throw new InvalidDataException($"{source}: empty");
        return new JiebaDictionary(builder.Build(), total);
    }
}
