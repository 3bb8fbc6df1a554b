using System.Text;
using System.Text.RegularExpressions;

namespace VallE.Runtime.Text.Vallex.Mandarin;

/// <summary>
/// The last steps of VALL-E X's <c>chinese_to_ipa</c>, on text already in zhuyin: Latin letters spelled as zhuyin
/// (<see cref="SpellLatin"/>), then zhuyin and tone marks to the IPA-like symbols of <c>_bopomofo_to_ipa</c>
/// (<see cref="ToIpa"/>: ordered replacements, then the glide and apical-vowel rules).
/// </summary>
internal static partial class BopomofoToIpa
{
    // How each Latin letter is read (a..z), as zhuyin with tones.
    private static readonly string[] s_latin =
    [
        "ㄟˉ", "ㄅㄧˋ", "ㄙㄧˉ", "ㄉㄧˋ", "ㄧˋ", "ㄝˊㄈㄨˋ", "ㄐㄧˋ", "ㄝˇㄑㄩˋ", "ㄞˋ", "ㄐㄟˋ", "ㄎㄟˋ", "ㄝˊㄛˋ", "ㄝˊㄇㄨˋ",
        "ㄣˉ", "ㄡˉ", "ㄆㄧˉ", "ㄎㄧㄡˉ", "ㄚˋ", "ㄝˊㄙˋ", "ㄊㄧˋ", "ㄧㄡˉ", "ㄨㄧˉ", "ㄉㄚˋㄅㄨˋㄌㄧㄡˋ", "ㄝˉㄎㄨˋㄙˋ",
        "ㄨㄞˋ", "ㄗㄟˋ",
    ];

    /// <summary>
    /// Each Latin letter, either case, becomes its zhuyin reading. Upstream matches the letters with Python's
    /// case-insensitive regexes, which also take K (U+212A KELVIN SIGN) for k, ſ (U+017F) for s, and İ, ı
    /// (U+0130, U+0131) for i.
    /// </summary>
    public static string SpellLatin(string text)
    {
        StringBuilder? sb = null;
        for (int i = 0; i < text.Length; i++)
        {
            int letter = LatinLetter(text[i]);
            if (letter < 0)
            {
                sb?.Append(text[i]);
                continue;
            }
            sb ??= new StringBuilder(text, 0, i, text.Length * 3);
            sb.Append(s_latin[letter]);
        }
        return sb?.ToString() ?? text;
    }

    private static int LatinLetter(char c) => c switch
    {
        >= 'a' and <= 'z' => c - 'a',
        >= 'A' and <= 'Z' => c - 'A',
        '\u212A' => 'k' - 'a',
        '\u017F' => 's' - 'a',
        '\u0130' or '\u0131' => 'i' - 'a',
        _ => -1,
    };

    // Zhuyin (and full-width punctuation) to IPA, applied in this order: the two-symbol entries come before the
    // symbols they start with.
    private static readonly (string From, string To)[] s_ipa =
    [
        ("ㄅㄛ", "p⁼wo"), ("ㄆㄛ", "pʰwo"), ("ㄇㄛ", "mwo"), ("ㄈㄛ", "fwo"),
        ("ㄅ", "p⁼"), ("ㄆ", "pʰ"), ("ㄇ", "m"), ("ㄈ", "f"), ("ㄉ", "t⁼"), ("ㄊ", "tʰ"), ("ㄋ", "n"), ("ㄌ", "l"),
        ("ㄍ", "k⁼"), ("ㄎ", "kʰ"), ("ㄏ", "x"), ("ㄐ", "tʃ⁼"), ("ㄑ", "tʃʰ"), ("ㄒ", "ʃ"), ("ㄓ", "ts`⁼"), ("ㄔ", "ts`ʰ"),
        ("ㄕ", "s`"), ("ㄖ", "ɹ`"), ("ㄗ", "ts⁼"), ("ㄘ", "tsʰ"), ("ㄙ", "s"),
        ("ㄚ", "a"), ("ㄛ", "o"), ("ㄜ", "ə"), ("ㄝ", "ɛ"), ("ㄞ", "aɪ"), ("ㄟ", "eɪ"), ("ㄠ", "ɑʊ"), ("ㄡ", "oʊ"),
        ("ㄧㄢ", "jɛn"), ("ㄩㄢ", "ɥæn"), ("ㄢ", "an"), ("ㄧㄣ", "in"), ("ㄩㄣ", "ɥn"), ("ㄣ", "ən"), ("ㄤ", "ɑŋ"),
        ("ㄧㄥ", "iŋ"), ("ㄨㄥ", "ʊŋ"), ("ㄩㄥ", "jʊŋ"), ("ㄥ", "əŋ"), ("ㄦ", "əɻ"), ("ㄧ", "i"), ("ㄨ", "u"), ("ㄩ", "ɥ"),
        ("ˉ", "→"), ("ˊ", "↑"), ("ˇ", "↓↑"), ("ˋ", "↓"), ("˙", ""),
        ("，", ","), ("。", "."), ("！", "!"), ("？", "?"), ("—", "-"),
    ];

    /// <summary>
    /// Zhuyin to IPA: the table above in order, then i/u before a vowel become glides (j, w), ʂ/ʐ-type syllables
    /// without a vowel get ɹ` and s-type ones ɹ (before a tone mark, a space or the end), and ɻ is written ɹ`.
    /// </summary>
    public static string ToIpa(string text)
    {
        var sb = new StringBuilder(text, text.Length * 3);
        foreach (var (from, to) in s_ipa) sb.Replace(from, to);
        string s = sb.ToString();
        s = GlideI().Replace(s, "j$1");
        s = GlideU().Replace(s, "w$1");
        s = RetroflexApical().Replace(s, "${1}ɹ`${2}").Replace("ɻ", "ɹ`", StringComparison.Ordinal);
        s = DentalApical().Replace(s, "${1}ɹ${2}");
        return s;
    }

    [GeneratedRegex("i([aoe])", RegexOptions.CultureInvariant)]
    private static partial Regex GlideI();

    [GeneratedRegex("u([aoəe])", RegexOptions.CultureInvariant)]
    private static partial Regex GlideU();

    [GeneratedRegex("([sɹ]`[⁼ʰ]?)([→↓↑ ]+|$)", RegexOptions.CultureInvariant)]
    private static partial Regex RetroflexApical();

    [GeneratedRegex("([s][⁼ʰ]?)([→↓↑ ]+|$)", RegexOptions.CultureInvariant)]
    private static partial Regex DentalApical();
}
