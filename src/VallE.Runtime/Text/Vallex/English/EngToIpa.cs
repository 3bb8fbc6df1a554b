using System.Collections.Frozen;
using System.Text;

namespace VallE.Runtime.Text.Vallex.English;

/// <summary>
/// The <c>eng_to_ipa</c> package's <c>convert(text)</c> (version 0.0.2, the SQL mode, stress marks "both", punctuation
/// kept, first pronunciation only), reproduced with its quirks because VALL-E X was trained on its output:
/// <list type="bullet">
/// <item>words split on whitespace; each word lower-cased and stripped of ASCII punctuation at both ends for the
/// look-up; the punctuation before the first letter and after the last letter is put back around the IPA;</item>
/// <item>a word missing from the dictionary keeps its (stripped) spelling plus <c>*</c>; an all-punctuation word
/// vanishes (its neighbours' spaces stay, to be collapsed later);</item>
/// <item>stress numbers become <c>ˈ</c>/<c>ˌ</c> placed before the onset of the stressed syllable by eng_to_ipa's
/// rules (words of one syllable get none);</item>
/// <item>ARPAbet to IPA by its table: AH1 <c>ʌ</c>, AH0 <c>ə</c>, AH2 left as <c>ah</c> (the table lacks it),
/// ER <c>ər</c>, R <c>r</c>, JH <c>ʤ</c>, CH <c>ʧ</c>, Y <c>j</c>...; then <c>ˈər</c>→<c>əˈr</c> and
/// <c>ˈie</c>→<c>iˈe</c> unless the word starts with them.</item>
/// </list>
/// </summary>
internal static class EngToIpa
{
    private const string IgnorePrefix = "__IGNORE__";
    private const string PunctuationToStrip = "!\"#$%&'()*+,-./:;<=>/?@[\\]^_`{|}~«» ";

    private static readonly FrozenDictionary<string, string> ArpabetToIpa = new Dictionary<string, string>
    {
        ["a"] = "ə", ["ey"] = "eɪ", ["aa"] = "ɑ", ["ae"] = "æ", ["+"] = "ə", ["ao"] = "ɔ", ["q"] = "ʌ",
        ["aw"] = "aʊ", ["ay"] = "aɪ", ["ch"] = "ʧ", ["dh"] = "ð", ["eh"] = "ɛ", ["er"] = "ər",
        ["hh"] = "h", ["ih"] = "ɪ", ["jh"] = "ʤ", ["ng"] = "ŋ", ["ow"] = "oʊ", ["oy"] = "ɔɪ",
        ["sh"] = "ʃ", ["th"] = "θ", ["uh"] = "ʊ", ["uw"] = "u", ["zh"] = "ʒ", ["iy"] = "i", ["y"] = "j",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private enum Phone { Vowel, Stop, Affricate, Fricative, Aspirate, Liquid, Nasal, Semivowel }

    // eng_to_ipa's phones.json (CMU's phone classes, plus its own "q" = AH1 and "+" = AH0).
    private static readonly FrozenDictionary<string, Phone> Phones = new Dictionary<string, Phone>
    {
        ["aa"] = Phone.Vowel, ["ae"] = Phone.Vowel, ["ah"] = Phone.Vowel, ["q"] = Phone.Vowel, ["+"] = Phone.Vowel,
        ["ao"] = Phone.Vowel, ["aw"] = Phone.Vowel, ["ay"] = Phone.Vowel, ["b"] = Phone.Stop, ["ch"] = Phone.Affricate,
        ["d"] = Phone.Stop, ["dh"] = Phone.Fricative, ["eh"] = Phone.Vowel, ["er"] = Phone.Vowel, ["ey"] = Phone.Vowel,
        ["f"] = Phone.Fricative, ["g"] = Phone.Stop, ["hh"] = Phone.Aspirate, ["ih"] = Phone.Vowel, ["iy"] = Phone.Vowel,
        ["jh"] = Phone.Affricate, ["k"] = Phone.Stop, ["l"] = Phone.Liquid, ["m"] = Phone.Nasal, ["n"] = Phone.Nasal,
        ["ng"] = Phone.Nasal, ["ow"] = Phone.Vowel, ["oy"] = Phone.Vowel, ["p"] = Phone.Stop, ["r"] = Phone.Liquid,
        ["s"] = Phone.Fricative, ["sh"] = Phone.Fricative, ["t"] = Phone.Stop, ["th"] = Phone.Fricative,
        ["uh"] = Phone.Vowel, ["uw"] = Phone.Vowel, ["v"] = Phone.Fricative, ["w"] = Phone.Semivowel,
        ["y"] = Phone.Semivowel, ["z"] = Phone.Fricative, ["zh"] = Phone.Fricative,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    // Adjacent vowels that are separate syllable nuclei (eng_to_ipa's syllables.hiatus).
    private static readonly (string, string)[] Hiatus =
        [("er", "iy"), ("iy", "ow"), ("uw", "ow"), ("iy", "ah"), ("iy", "ey"), ("uw", "eh"), ("er", "eh")];

    private static readonly string[] Clusters = ["sp", "st", "sk", "fr", "fl"];

    /// <summary><c>eng_to_ipa.convert(text)</c>.</summary>
    public static string Convert(string text)
    {
        var words = PythonText.SplitWhitespace(text);
        var output = new List<string>(words.Count);
        foreach (string original in words)
        {
            string w = original.ToLowerInvariant();
            string core = StripPunctuation(w).ToLowerInvariant();
            string cmu = CmuDictionary.TryGet(core, out string phonemes) ? phonemes : IgnorePrefix + core;
            string ipa = CmuToIpa(cmu);
            output.Add(LeadingPunctuation(w) + ipa + TrailingPunctuation(w));
        }
        return string.Join(' ', output);
    }

    private static bool IsAsciiLetter(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z');
    private static bool IsAsciiAlnum(char c) => IsAsciiLetter(c) || c is >= '0' and <= '9';

    private static string StripPunctuation(string w) => w.Trim(PunctuationToStrip.ToCharArray());

    /// <summary><c>^([^A-Za-z0-9]+)[A-Za-z]</c>: the non-alphanumerics before a first letter.</summary>
    private static string LeadingPunctuation(string w)
    {
        int i = 0;
        while (i < w.Length && !IsAsciiAlnum(w[i])) i++;
        return i > 0 && i < w.Length && IsAsciiLetter(w[i]) ? w[..i] : "";
    }

    /// <summary><c>[A-Za-z]([^A-Za-z0-9]+)$</c>: the non-alphanumerics after a last letter.</summary>
    private static string TrailingPunctuation(string w)
    {
        int i = w.Length;
        while (i > 0 && !IsAsciiAlnum(w[i - 1])) i--;
        return i < w.Length && i > 0 && IsAsciiLetter(w[i - 1]) ? w[i..] : "";
    }

    private static string RemoveDigits(string s)
    {
        if (!s.Any(char.IsAsciiDigit)) return s;
        var sb = new StringBuilder(s.Length);
        foreach (char c in s) if (!char.IsAsciiDigit(c)) sb.Append(c);
        return sb.ToString();
    }

    private static string Bare(string symbol)
    {
        var sb = new StringBuilder(symbol.Length);
        foreach (char c in symbol) if (!char.IsAsciiDigit(c) && c != 'ˈ' && c != 'ˌ') sb.Append(c);
        return sb.ToString();
    }

    private static Phone PhoneOf(string symbol) => Phones.TryGetValue(symbol, out Phone p) ? p
        : throw new InvalidInputException($"eng_to_ipa has no phone class for the CMU symbol '{symbol}'");

    /// <summary>eng_to_ipa's <c>cmu_syllable_count</c>.</summary>
    private static int SyllableCount(string cmu)
    {
        string[] symbols = RemoveDigits(cmu).Split(' ');
        if (symbols[0].Contains(IgnorePrefix, StringComparison.Ordinal)) return 0;
        int nuclei = 0;
        for (int i = 0; i < symbols.Length; i++)
        {
            string prevSym = symbols[i == 0 ? symbols.Length - 1 : i - 1]; // Python's [-1] at i == 0
            Phone prev = PhoneOf(prevSym);
            if (PhoneOf(symbols[i]) != Phone.Vowel) continue;
            if ((i > 0 && prev != Phone.Vowel) || i == 0) nuclei++;
            else if (Array.IndexOf(Hiatus, (prevSym, symbols[i])) >= 0) nuclei++;
        }
        return nuclei;
    }

    private static char? StressMark(char digit) => digit switch { '1' => 'ˈ', '2' => 'ˌ', _ => null };

    /// <summary>eng_to_ipa's <c>find_stress(word, type="both")</c>: CMU symbols with stress marks instead of digits.</summary>
    private static string FindStress(string cmu)
    {
        if (cmu.StartsWith(IgnorePrefix, StringComparison.Ordinal)) return cmu;
        if (SyllableCount(cmu) <= 1) return RemoveDigits(cmu);
        var word = new List<string>();
        foreach (string c in cmu.Split(' '))
        {
            string? mark = c.Length > 0 ? StressMark(c[^1])?.ToString() : null;
            if (mark is null)
            {
                word.Add(c.StartsWith(IgnorePrefix, StringComparison.Ordinal) ? c : RemoveDigits(c));
                continue;
            }
            if (word.Count == 0)
            {
                char first = c.First(char.IsAsciiDigit); // the first digit of the symbol picks the mark
                word.Add(RemoveDigits(StressMark(first)?.ToString() + c));
                continue;
            }
            bool placed = false, hiatus = false;
            word.Reverse();
            for (int i = 0; i < word.Count; i++)
            {
                string sym = Bare(word[i]);
                string prevSym = Bare(word[i == 0 ? word.Count - 1 : i - 1]);
                Phone prevPhone = PhoneOf(prevSym);
                Phone phone = PhoneOf(sym);
                if (phone is Phone.Nasal or Phone.Fricative or Phone.Vowel || (i > 0 && prevPhone == Phone.Stop)
                    || sym is "er" or "w" or "j")
                {
                    if (Clusters.Contains(sym + prevSym)) word[i] = mark + word[i];
                    else if (prevPhone != Phone.Vowel && i > 0) word[i - 1] = mark + word[i - 1];
                    else if (phone == Phone.Vowel)
                    {
                        hiatus = true;
                        word.Insert(0, mark + Bare(c));
                    }
                    else word[i] = mark + word[i];
                    placed = true;
                    break;
                }
            }
            if (!placed && word.Count > 0) word[^1] = mark + word[^1];
            word.Reverse();
            if (!hiatus) word.Add(RemoveDigits(c));
        }
        return string.Join(' ', word);
    }

    /// <summary>eng_to_ipa's <c>cmu_to_ipa</c> for one pronunciation (or one <c>__IGNORE__word</c>).</summary>
    private static string CmuToIpa(string cmu)
    {
        cmu = cmu.Replace("ah1", "q1", StringComparison.Ordinal).Replace("ah0", "+0", StringComparison.Ordinal);
        string word = FindStress(cmu);
        var ipa = new StringBuilder();
        if (word.StartsWith(IgnorePrefix, StringComparison.Ordinal))
        {
            string spelled = word.Replace(IgnorePrefix, "", StringComparison.Ordinal);
            ipa.Append(spelled);
            // Marked with '*' unless nothing but digits is left (upstream's mark flag is always truthy there).
            if (RemoveDigits(spelled).Length > 0) ipa.Append('*');
        }
        else
        {
            foreach (string piece in word.Split(' '))
            {
                if (piece.Length == 0) throw new InvalidInputException("empty phoneme in a CMU dictionary entry");
                bool marked = piece[0] is 'ˈ' or 'ˌ';
                string unmarked = marked ? piece[1..] : piece;
                if (ArpabetToIpa.TryGetValue(unmarked, out string? symbol))
                {
                    if (marked) ipa.Append(piece[0]);
                    ipa.Append(symbol);
                }
                else ipa.Append(piece);
            }
        }
        string form = ipa.ToString();
        foreach (var (from, to) in new[] { ("ˈər", "əˈr"), ("ˈie", "iˈe") })
            if (!form.StartsWith(from, StringComparison.Ordinal)) form = form.Replace(from, to, StringComparison.Ordinal);
        return form;
    }
}
