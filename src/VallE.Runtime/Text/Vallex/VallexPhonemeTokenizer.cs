using System.Collections.Frozen;
using System.Text;
using System.Text.RegularExpressions;

namespace VallE.Runtime.Text.Vallex;

/// <summary>
/// VALL-E X's <c>PhonemeBpeTokenizer</c> over <c>bpe_69.json</c>, as <c>utils/generation.py</c> uses it:
/// <c>cje_cleaners</c> turns each <c>[EN]..[EN]</c>, <c>[ZH]..[ZH]</c>, <c>[JA]..[JA]</c> segment into phonemes
/// (text outside the tags is dropped), spaces become <c>_</c>, and every phoneme character is one token: the
/// vocabulary has no merges, so the BPE model maps each character to its id, and a character outside the
/// 70-entry vocabulary to <c>[UNK]</c> = 0. One language id per token (zh 0, ja 1, en 2).
/// </summary>
internal static class VallexPhonemeTokenizer
{
    /// <summary>Language ids of VALL-E X (<c>lang2code</c>).</summary>
    public static int LanguageId(string language) => language switch
    {
        "zh" => 0,
        "ja" => 1,
        "en" => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(language), language, "en, zh or ja"),
    };

    public const int UnknownId = 0;

    // bpe_69.json's vocabulary: ids 0..4 are [UNK] [CLS] [SEP] [PAD] [MASK], then one character each from 5 on.
    private const string Characters =
        "!#*,-.=?NQ^_`abdefghijklmnopstuvwxyz~æçðŋɑɔəɛɥɪɫɯɸɹɾʃʊʑʒʰˈˌθ…⁼↑→↓";

    private static readonly FrozenDictionary<int, int> Vocabulary = BuildVocabulary();

    private static readonly string[] SpecialTokens = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"];

    private static FrozenDictionary<int, int> BuildVocabulary()
    {
        var vocab = new Dictionary<int, int>();
        int id = 5;
        foreach (Rune r in Characters.EnumerateRunes()) vocab.Add(r.Value, id++);
        return vocab.ToFrozenDictionary();
    }

    /// <summary>The id of one phoneme character (0 when outside the vocabulary).</summary>
    public static int IdOf(Rune r) => Vocabulary.TryGetValue(r.Value, out int id) ? id : UnknownId;

    /// <summary>Number of entries of the vocabulary (70).</summary>
    public static int VocabularySize => 5 + Vocabulary.Count;

    // cje_cleaners' segment patterns, in upstream's order; '.' stops at '\n' in both regex dialects.
    private static readonly (Regex Pattern, string Tag, string Language)[] Segments =
    [
        (new Regex(@"\[EN\](.*?)\[EN\]", RegexOptions.CultureInvariant), "[EN]", "en"),
        (new Regex(@"\[ZH\](.*?)\[ZH\]", RegexOptions.CultureInvariant), "[ZH]", "zh"),
        (new Regex(@"\[JA\](.*?)\[JA\]", RegexOptions.CultureInvariant), "[JA]", "ja"),
    ];

    /// <summary>
    /// <c>cje_cleaners(text)</c>: phonemes of the tagged segments in order of their start, with one language per
    /// phoneme code point.
    /// </summary>
    public static (string Phonemes, List<string> Languages) Clean(string text)
    {
        var matches = new List<Match>();
        foreach (var (pattern, _, _) in Segments) matches.AddRange(pattern.Matches(text));
        matches.Sort((a, b) => a.Index.CompareTo(b.Index)); // distinct starts: tags differ

        var phonemes = new StringBuilder();
        var languages = new List<string>();
        foreach (Match m in matches)
        {
            string segment = m.Value;
            string phon = CleanOne(segment);
            string language = segment.Contains("[EN]", StringComparison.Ordinal) ? "en"
                : segment.Contains("[ZH]", StringComparison.Ordinal) ? "zh" : "ja";
            phonemes.Append(phon);
            int count = 0;
            foreach (Rune _ in phon.EnumerateRunes()) count++;
            for (int i = 0; i < count; i++) languages.Add(language);
        }
        return (phonemes.ToString(), languages);
    }

    /// <summary>
    /// <c>clean_one(segment)</c>: each tagged part (zh, then ja, then en) replaced by its phonemes plus a space;
    /// trailing whitespace removed; "." appended unless the phonemes end in <c>.,!?-…~</c>.
    /// </summary>
    private static string CleanOne(string segment)
    {
        string text = segment;
        foreach (var (pattern, tag, language) in new[] { Segments[1], Segments[2], Segments[0] })
        {
            if (!text.Contains(tag, StringComparison.Ordinal)) continue;
            text = pattern.Replace(text, m => VallexG2PRegistry.Get(language).ToIpa(m.Groups[1].Value) + " ");
        }
        text = StripTrailingSpace(text); // re.sub(r'\s+$', '', text)
        if (text.Length > 0 && ".,!?-…~".IndexOf(text[^1]) < 0) text += ".";
        return text;
    }

    private static string StripTrailingSpace(string text)
    {
        int end = text.Length;
        while (end > 0 && PythonText.IsSpace(text[end - 1])) end--;
        return end == text.Length ? text : text[..end];
    }

    /// <summary>
    /// <c>PhonemeBpeTokenizer.tokenize(text)</c>: phonemes (spaces as <c>_</c>), token ids and language ids.
    /// </summary>
    /// <exception cref="InvalidInputException">Nothing to pronounce, or phonemes upstream's tokenizer cannot
    /// count one token per character for (whitespace other than spaces, a literal special token).</exception>
    public static (string Phonemes, int[] TokenIds, int[] LanguageIds) Tokenize(string text)
    {
        var (phonemes, languages) = Clean(text);
        phonemes = phonemes.Replace(' ', '_');
        foreach (string special in SpecialTokens)
            if (phonemes.Contains(special, StringComparison.Ordinal))
                throw new InvalidInputException($"the phonemes hold the special token {special}, which VALL-E X's tokenizer cannot take");
        var ids = new List<int>(languages.Count);
        foreach (Rune r in phonemes.EnumerateRunes())
        {
            // The tokenizer's Whitespace pre-tokenizer drops whitespace, so upstream's per-character language
            // list no longer lines up (it asserts); refuse instead.
            if (Rune.IsWhiteSpace(r) || (r.Value < 0x80 && PythonText.IsSpace((char)r.Value)))
                throw new InvalidInputException($"the phonemes hold the whitespace character U+{r.Value:X4}, which VALL-E X's tokenizer drops");
            ids.Add(IdOf(r));
        }
        if (ids.Count == 0) throw new InvalidInputException("empty text: nothing to pronounce in the tagged segments");
        return (phonemes, [.. ids], [.. languages.Select(LanguageId)]);
    }
}
