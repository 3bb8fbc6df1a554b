using System.Globalization;
using System.Text;

namespace VallE.Runtime.Text.Vallex.Japanese;

/// <summary>
/// How VALL-E X's Japanese front end cuts text (Plachtaa/VALL-E-X <c>utils/g2p/japanese.py</c>): which characters
/// count as Japanese (runs of them go to OpenJTalk), the symbols it spells out before that (<c>％</c>), and what a
/// non-Japanese character ("mark") becomes in the output: its ASCII transliteration as the <c>unidecode</c>
/// package gives it, spaces removed.
/// </summary>
internal static class JapaneseText
{
    /// <summary>
    /// Upstream's Japanese characters: ASCII letters, decimal digits (any script's: Python's <c>\d</c>), 々,
    /// hiragana, katakana (U+3040..U+30FF, ・ and ー included), CJK ideographs U+4E00..U+9FFF, full-width 1-9 and
    /// letters, half-width katakana U+FF66..U+FF9D.
    /// </summary>
    public static bool IsJapanese(Rune r)
    {
        int c = r.Value;
        return c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or 0x3005 or (>= 0x3040 and <= 0x30FF)
                   or (>= 0x4E00 and <= 0x9FFF) or (>= 0xFF11 and <= 0xFF19) or (>= 0xFF21 and <= 0xFF3A)
                   or (>= 0xFF41 and <= 0xFF5A) or (>= 0xFF66 and <= 0xFF9D)
               || Rune.GetUnicodeCategory(r) == UnicodeCategory.DecimalDigitNumber;
    }

    /// <summary>Symbols spelled out in Japanese before anything else (upstream's <c>symbols_to_japanese</c>).</summary>
    public static string SpellSymbols(string text) => text.Replace("％", "パーセント", StringComparison.Ordinal);

    /// <summary>
    /// What a non-Japanese character becomes: <c>unidecode(mark).replace(' ', '')</c>. ASCII stays as it is; Latin-1,
    /// Latin Extended-A, general punctuation, CJK symbols and full/half-width forms follow unidecode 1.3's tables;
    /// any other character (Hangul, Cyrillic, rarer symbols...) is dropped, where unidecode would transliterate it.
    /// </summary>
    public static string TransliterateMark(Rune r)
    {
        int c = r.Value;
        if (c < 0x80) return c == ' ' ? "" : r.ToString();
        string?[]? table; int first;
        switch (c)
        {
            case >= 0xA0 and <= 0x17F: table = Latin1; first = 0xA0; break;
            case >= 0x2000 and <= 0x206F: table = Punctuation; first = 0x2000; break;
            case >= 0x3000 and <= 0x303F: table = CjkSymbols; first = 0x3000; break;
            case >= 0xFF00 and <= 0xFFEF: table = Fullwidth; first = 0xFF00; break;
            default: return "";
        }
        return table[c - first] ?? "";
    }

    // unidecode's output for each code point, spaces removed; null where the character is Japanese (never a mark).
    // U+00A0..U+017F
    private static readonly string?[] Latin1 =
    [
        "", "!", "C/", "PS", "$?", "Y=", "|", "SS", "\"", "(c)", "a", "<<", "!", "", "(r)", "-",
        "deg", "+-", "2", "3", "'", "u", "P", "*", ",", "1", "o", ">>", "1/4", "1/2", "3/4", "?",
        "A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I", "I",
        "D", "N", "O", "O", "O", "O", "O", "x", "O", "U", "U", "U", "U", "Y", "Th", "ss",
        "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
        "d", "n", "o", "o", "o", "o", "o", "/", "o", "u", "u", "u", "u", "y", "th", "y",
        "A", "a", "A", "a", "A", "a", "C", "c", "C", "c", "C", "c", "C", "c", "D", "d",
        "D", "d", "E", "e", "E", "e", "E", "e", "E", "e", "E", "e", "G", "g", "G", "g",
        "G", "g", "G", "g", "H", "h", "H", "h", "I", "i", "I", "i", "I", "i", "I", "i",
        "I", "i", "IJ", "ij", "J", "j", "K", "k", "k", "L", "l", "L", "l", "L", "l", "L",
        "l", "L", "l", "N", "n", "N", "n", "N", "n", "'n", "ng", "NG", "O", "o", "O", "o",
        "O", "o", "OE", "oe", "R", "r", "R", "r", "R", "r", "S", "s", "S", "s", "S", "s",
        "S", "s", "T", "t", "T", "t", "T", "t", "U", "u", "U", "u", "U", "u", "U", "u",
        "U", "u", "U", "u", "W", "w", "Y", "y", "Y", "Z", "z", "Z", "z", "Z", "z", "s",
    ];
    // U+2000..U+206F
    private static readonly string?[] Punctuation =
    [
        "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
        "-", "-", "-", "-", "--", "--", "||", "_", "'", "'", ",", "'", "\"", "\"", ",,", "\"",
        "+", "++", "*", "*>", ".", "..", "...", ".", "\n", "\n\n", "", "", "", "", "", "",
        "%0", "%00", "'", "''", "'''", "`", "``", "```", "^", "<", ">", "*", "!!", "!?", "-", "_",
        "-", "^", "***", "--", "/", "-[", "]-", "??", "?!", "!?", "&", "PP", "(]", "[)", "*", "",
        "", "", "%", "~", "", "", "", "''''", "", "", "", "", "", "", "", "",
        "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
    ];
    // U+3000..U+303F
    private static readonly string?[] CjkSymbols =
    [
        "", ",", ".", "\"", "[JIS]", null, "/", "0", "<", ">", "<<", ">>", "[", "]", "{", "}",
        "[(", ")]", "@", "X", "[", "]", "[[", "]]", "((", "))", "[[", "]]", "~", "``", "''", ",,",
        "@", "1", "2", "3", "4", "5", "6", "7", "8", "9", "", "", "", "", "", "",
        "~", "+", "+", "+", "+", "", "@", "//", "+10+", "+20+", "+30+", "", "", "", "", "",
    ];
    // U+FF00..U+FFEF
    private static readonly string?[] Fullwidth =
    [
        "", "!", "\"", "#", "$", "%", "&", "'", "(", ")", "*", "+", ",", "-", ".", "/",
        null, null, null, null, null, null, null, null, null, null, ":", ";", "<", "=", ">", "?",
        "@", null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
        null, null, null, null, null, null, null, null, null, null, null, "[", "\\", "]", "^", "_",
        "`", null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
        null, null, null, null, null, null, null, null, null, null, null, "{", "|", "}", "~", "",
        "", ".", "[", "]", ",", "*", null, null, null, null, null, null, null, null, null, null,
        null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
        null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
        null, null, null, null, null, null, null, null, null, null, null, null, null, null, ":", ";",
        "", "g", "gg", "gs", "n", "nj", "nh", "d", "dd", "r", "lg", "lm", "lb", "ls", "lt", "lp",
        "rh", "m", "b", "bb", "bs", "s", "ss", "", "j", "jj", "c", "k", "t", "p", "h", "",
        "", "", "a", "ae", "ya", "yae", "eo", "e", "", "", "yeo", "ye", "o", "wa", "wae", "oe",
        "", "", "yo", "u", "weo", "we", "wi", "yu", "", "", "eu", "yi", "i", "", "", "",
        "/C", "PS", "!", "-", "|", "Y=", "W=", "", "|", "-", "|", "-", "|", "#", "O", "",
    ];
}
