namespace VallE.Runtime.Text.Vallex.Mandarin;

/// <summary>
/// pypinyin 0.55.0's dictionaries as <c>lazy_pinyin</c> uses them (no heteronyms): the first reading of each
/// character (<c>pinyin_dict</c>) and, for each phrase of <c>phrases_dict</c>, the first reading of each of its
/// characters. Readings are tone-marked pinyin ("zhōng"); identical syllables share one string.
/// </summary>
internal sealed class PinyinDictionary
{
    private static readonly Lazy<PinyinDictionary> s_default = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly Dictionary<int, string> _chars;
    private readonly SortedWordTable _phrases;   // value: offset of the phrase's readings in _phraseReadings
    private readonly string[] _phraseReadings;   // one per character of each phrase, phrase after phrase

    private PinyinDictionary(Dictionary<int, string> chars, SortedWordTable phrases, string[] phraseReadings, int syllables)
    {
        _chars = chars;
        _phrases = phrases;
        _phraseReadings = phraseReadings;
        SyllableCount = syllables;
    }

    public static PinyinDictionary Default => s_default.Value;

    public int CharCount => _chars.Count;

    public int PhraseCount => _phrases.Count;

    public int SyllableCount { get; }

    /// <summary>The first reading of a character (code point), or null when pypinyin has none.</summary>
    public string? CharReading(int codePoint) => _chars.GetValueOrDefault(codePoint);

    /// <summary>The readings of a phrase (one per character), or an empty span when it is not a phrase.</summary>
    public ReadOnlySpan<string> PhraseReadings(ReadOnlySpan<char> phrase)
    {
        int i = _phrases.IndexOf(phrase);
        return i < 0 ? default : _phraseReadings.AsSpan(_phrases.Value(i), phrase.Length);
    }

    public bool IsPhrase(ReadOnlySpan<char> text) => _phrases.IndexOf(text) >= 0;

    /// <summary>pypinyin's phrase prefix set: some phrase starts with <paramref name="text"/>.</summary>
    public bool IsPhrasePrefix(ReadOnlySpan<char> text) => _phrases.HasWordStartingWith(text);

    private static PinyinDictionary Load()
    {
        var syllables = new Dictionary<string, string>(StringComparer.Ordinal);
        var lookup = syllables.GetAlternateLookup<ReadOnlySpan<char>>();
        string Intern(ReadOnlySpan<char> s)
        {
            if (lookup.TryGetValue(s, out var existing)) return existing;
            string str = s.ToString();
            syllables.Add(str, str);
            return str;
        }

        const string charsSource = MandarinData.PinyinChars;
        var chars = new Dictionary<int, string>(42_000);
        foreach (var line in MandarinData.ReadText(charsSource).AsSpan().EnumerateLines())
        {
            if (line.IsEmpty) continue;
            int tab = line.IndexOf('\t');
            if (tab <= 0 || tab == line.Length - 1 || System.Text.Rune.DecodeFromUtf16(line[..tab], out var rune, out int used) != System.Buffers.OperationStatus.Done || used != tab)
                throw new InvalidDataException($"{charsSource}: bad line '{line}'");
            chars[rune.Value] = Intern(line[(tab + 1)..]);
        }

        const string phrasesSource = MandarinData.PinyinPhrases;
        var phrases = new SortedWordTable.Builder(phrasesSource, 48_000, 150_000);
        var readings = new List<string>(150_000);
        foreach (var line in MandarinData.ReadText(phrasesSource).AsSpan().EnumerateLines())
        {
            if (line.IsEmpty) continue;
            int tab = line.IndexOf('\t');
            if (tab <= 0) throw new InvalidDataException($"{phrasesSource}: bad line '{line}'");
            var phrase = line[..tab];
            int offset = readings.Count;
            foreach (var range in line[(tab + 1)..].Split(' '))
                readings.Add(Intern(line[(tab + 1)..][range]));
            if (readings.Count - offset != phrase.Length)
                throw new InvalidDataException($"{phrasesSource}: '{phrase}' has {readings.Count - offset} readings");
            phrases.Add(phrase, offset);
        }
        return new PinyinDictionary(chars, phrases.Build(), readings.ToArray(), syllables.Count);
    }
}
