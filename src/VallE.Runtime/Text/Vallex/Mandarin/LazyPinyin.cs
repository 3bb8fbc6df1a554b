namespace VallE.Runtime.Text.Vallex.Mandarin;

/// <summary>
/// pypinyin 0.55.0's <c>lazy_pinyin(word, Style.BOPOMOFO)</c> with its defaults (no heteronyms, errors kept as
/// they are, no tone sandhi): the word is split into runs of Han and non-Han code points; a non-Han run is one item
/// as it is; a Han run is cut by pypinyin's forward maximum matching over its phrase list
/// (<see cref="CutPhrases"/>), each phrase takes its dictionary readings, every other character its first reading,
/// and each reading becomes zhuyin (<see cref="Bopomofo"/>).
/// </summary>
internal sealed class LazyPinyin
{
    private readonly PinyinDictionary? _dictionary;

    public LazyPinyin(PinyinDictionary dictionary) => _dictionary = dictionary;

    private LazyPinyin() { }

    /// <summary>Over pypinyin's own data, which loads on first use.</summary>
    public static LazyPinyin Default { get; } = new();

    private PinyinDictionary Dictionary => _dictionary ?? PinyinDictionary.Default;

    /// <summary>One item per Han character (its zhuyin) and one per non-Han run (unchanged).</summary>
    public List<string> ToBopomofo(string word)
    {
        var items = new List<string>();
        int i = 0;
        while (i < word.Length)
        {
            int start = i;
            bool han = IsHan(CodePointAt(word, i, out _));
            while (i < word.Length)
            {
                int cp = CodePointAt(word, i, out int length);
                if (IsHan(cp) != han) break;
                i += length;
            }
            string run = word.Substring(start, i - start);
            if (!han)
            {
                items.Add(run);
                continue;
            }
            foreach (string piece in CutPhrases(run))
            {
                var readings = Dictionary.PhraseReadings(piece);
                if (!readings.IsEmpty)
                {
                    foreach (string reading in readings) items.Add(Bopomofo.FromPinyin(reading));
                    continue;
                }
                for (int j = 0; j < piece.Length;)
                {
                    int cp = CodePointAt(piece, j, out int length);
                    // A character without a reading stands for itself and still goes through the style.
                    items.Add(Bopomofo.FromPinyin(Dictionary.CharReading(cp) ?? piece.Substring(j, length)));
                    j += length;
                }
            }
        }
        return items;
    }

    /// <summary>
    /// pypinyin's phrase segmentation (<c>seg.mmseg</c>, strict about phrases): at each point the longest phrase
    /// that starts there, found by extending while the text is still a prefix of some phrase; where none starts, one
    /// character. When the whole rest of the run is a prefix of a longer phrase and holds no phrase, it comes out as
    /// single characters.
    /// </summary>
    public List<string> CutPhrases(string run)
    {
        var dictionary = Dictionary;
        var pieces = new List<string>();
        int pos = 0;
        while (pos < run.Length)
        {
            int lastPhraseEnd = -1;
            bool stopped = false;
            int end = pos;
            while (end < run.Length)
            {
                CodePointAt(run, end, out int step);
                end += step;
                var candidate = run.AsSpan(pos, end - pos);
                if (dictionary.IsPhrasePrefix(candidate))
                {
                    if (dictionary.IsPhrase(candidate)) lastPhraseEnd = end;
                    continue;
                }
                CodePointAt(run, pos, out int first);
                int pieceEnd = lastPhraseEnd >= 0 ? lastPhraseEnd : pos + first;
                pieces.Add(run.Substring(pos, pieceEnd - pos));
                pos = pieceEnd;
                stopped = true;
                break;
            }
            if (stopped) continue;
            if (lastPhraseEnd >= 0)
            {
                pieces.Add(run.Substring(pos, lastPhraseEnd - pos));
                pos = lastPhraseEnd;
                continue;
            }
            for (int j = pos; j < run.Length;)
            {
                CodePointAt(run, j, out int length);
                pieces.Add(run.Substring(j, length));
                j += length;
            }
            pos = run.Length;
        }
        return pieces;
    }

    /// <summary>The code point at <paramref name="i"/> (a surrogate pair, or one UTF-16 unit as Python would see it).</summary>
    internal static int CodePointAt(string s, int i, out int length)
    {
        if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
        {
            length = 2;
            return char.ConvertToUtf32(s[i], s[i + 1]);
        }
        length = 1;
        return s[i];
    }

    /// <summary>pypinyin's <c>RE_HANS</c> class (wide build), for one code point.</summary>
    internal static bool IsHan(int cp) =>
        cp == 0x3007
        || cp is >= 0xE815 and <= 0xE864
        || cp == 0xFA18
        || cp is >= 0x3400 and <= 0x4DBF
        || cp is >= 0x4E00 and <= 0x9FFF
        || cp is >= 0xF900 and <= 0xFAFF
        || cp is >= 0x20000 and <= 0x2A6DF
        || cp is >= 0x2A703 and <= 0x2B73F
        || cp is >= 0x2B740 and <= 0x2B81D
        || cp is >= 0x2B825 and <= 0x2BF6E
        || cp is >= 0x2C029 and <= 0x2CE93
        || cp == 0x2D016
        || cp is >= 0x2D11B and <= 0x2EBD9
        || cp is >= 0x2F80A and <= 0x2FA1F
        || cp is >= 0x30000 and <= 0x3134A
        || cp is >= 0x300F7 and <= 0x31288
        || cp == 0x30EDD
        || cp == 0x30EDE
        || cp is >= 0x31350 and <= 0x32389;
}
