using System.Text;

namespace VallE.Runtime.Text.Vallex;

/// <summary>
/// Transliteration to ASCII as the Python <c>unidecode</c> package (1.3.6) gives it, which VALL-E X runs over
/// English text and over the non-Japanese characters ("marks") of Japanese text. Our own table, the one both
/// front ends use, covering the blocks their text carries:
/// <list type="bullet">
/// <item>U+0000..U+017F: ASCII as is, C1 controls "", Latin-1 Supplement and Latin Extended-A ("é" → "e",
/// "æ" → "ae", "ß" → "ss", "£" → "PS", "°" → "deg", "¼" → " 1/4");</item>
/// <item>U+2000..U+206F General Punctuation (spaces, dashes, quotes, ellipsis...);</item>
/// <item>U+20A0..U+20B1 currency signs ("€" → "EUR") and a few letterlike, arrow and maths signs
/// (№ ™ ← → − ∕ ≤ ≥), U+FEFF;</item>
/// <item>U+3000..U+303F CJK Symbols and Punctuation ("、" → ", ", "「" → "[");</item>
/// <item>U+FF00..U+FFEF Halfwidth and Fullwidth Forms (full-width ASCII, half-width katakana romanised,
/// half-width Hangul jamo, full-width signs).</item>
/// </list>
/// Any other code point (Greek, Cyrillic, Han, kana, Hangul syllables, emoji...) is not in the table:
/// <see cref="Map(int)"/> gives null for it, where unidecode would romanise it; each caller decides what that becomes.
/// </summary>
internal static class Unidecode
{
    /// <summary>
    /// unidecode's output for <paramref name="codePoint"/>, unchanged (spaces included), or null where the code
    /// point is outside the covered blocks.
    /// </summary>
    public static string? Map(int codePoint) => codePoint switch
    {
        >= 0 and < 0x80 => Ascii[codePoint],
        < 0xA0 => "",
        < 0x180 => Latin[codePoint - 0xA0],
        >= 0x2000 and < 0x2070 => Punctuation[codePoint - 0x2000],
        >= 0x20A0 and < 0x20B2 => Currency[codePoint - 0x20A0],
        0x2116 => "No. ", 0x2122 => "(tm)", 0x2190 => "-", 0x2192 => "-", 0x2212 => "-", 0x2215 => "/",
        0x2264 => "<=", 0x2265 => ">=",
        >= 0x3000 and < 0x3040 => CjkSymbols[codePoint - 0x3000],
        0xFEFF => "",
        0xFF00 => "",
        >= 0xFF01 and < 0xFF5F => Ascii[codePoint - 0xFEE0],
        >= 0xFF5F and < 0xFFF0 => HalfwidthFullwidth[codePoint - 0xFF5F],
        _ => null,
    };

    /// <inheritdoc cref="Map(int)"/>
    public static string? Map(Rune rune) => Map(rune.Value);

    /// <summary>
    /// The ASCII transliteration of <paramref name="text"/>: <see cref="Map(int)"/> of each code point, those
    /// outside the table (and lone surrogates) becoming "".
    /// </summary>
    public static string Fold(string text)
    {
        bool ascii = true;
        foreach (char c in text) if (c >= 0x80) { ascii = false; break; }
        if (ascii) return text;
        var sb = new StringBuilder(text.Length + 8);
        foreach (Rune r in text.EnumerateRunes()) sb.Append(Map(r.Value) ?? "");
        return sb.ToString();
    }

    private static readonly string[] Ascii = BuildAscii();

    private static string[] BuildAscii()
    {
        var a = new string[0x80];
        for (int i = 0; i < a.Length; i++) a[i] = ((char)i).ToString();
        return a;
    }

    // U+00A0..U+017F
    private static readonly string[] Latin =
    [
        " ", "!", "C/", "PS", "$?", "Y=", "|", "SS", "\"", "(c)", "a", "<<", "!", "", "(r)", "-",
        "deg", "+-", "2", "3", "'", "u", "P", "*", ",", "1", "o", ">>", " 1/4", " 1/2", " 3/4", "?",
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
    private static readonly string[] Punctuation =
    [
        " ", " ", " ", " ", " ", " ", " ", " ", " ", " ", " ", " ", "", "", "", "",
        "-", "-", "-", "-", "--", "--", "||", "_", "'", "'", ",", "'", "\"", "\"", ",,", "\"",
        "+", "++", "*", "*>", ".", "..", "...", ".", "\n", "\n\n", "", "", "", "", "", " ",
        "%0", "%00", "'", "''", "'''", "`", "``", "```", "^", "<", ">", "*", "!!", "!?", "-", "_",
        "-", "^", "***", "--", "/", "-[", "]-", "??", "?!", "!?", "&", "PP", "(]", "[)", "*", "",
        "", "", "%", "~", "", "", "", "''''", "", "", "", "", "", "", "", " ",
        "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
    ];

    // U+20A0..U+20B1
    private static readonly string[] Currency =
    [
        "ECU", "CL", "Cr", "FF", "L", "mil", "N", "Pts", "Rs", "W", "NS", "D", "EUR", "K", "T", "Dr",
        "Pf", "P",
    ];

    // U+3000..U+303F
    private static readonly string[] CjkSymbols =
    [
        " ", ", ", ". ", "\"", "[JIS]", "\"", "/", "0", "<", "> ", "<<", ">> ", "[", "] ", "{", "} ",
        "[(", ")] ", "@", "X ", "[", "] ", "[[", "]] ", "((", ")) ", "[[", "]] ", "~ ", "``", "''", ",,",
        "@", "1", "2", "3", "4", "5", "6", "7", "8", "9", "", "", "", "", "", "",
        "~", "+", "+", "+", "+", "", "@", " // ", "+10+", "+20+", "+30+", "", "", "", "", "",
    ];

    // U+FF5F..U+FFEF (U+FF01..U+FF5E are full-width ASCII)
    private static readonly string[] HalfwidthFullwidth =
    [
                                                                                      "",
        "", ".", "[", "]", ",", "*", "wo", "a", "i", "u", "e", "o", "ya", "yu", "yo", "tu",
        "+", "a", "i", "u", "e", "o", "ka", "ki", "ku", "ke", "ko", "sa", "si", "su", "se", "so",
        "ta", "ti", "tu", "te", "to", "na", "ni", "nu", "ne", "no", "ha", "hi", "hu", "he", "ho", "ma",
        "mi", "mu", "me", "mo", "ya", "yu", "yo", "ra", "ri", "ru", "re", "ro", "wa", "n", ":", ";",
        "", "g", "gg", "gs", "n", "nj", "nh", "d", "dd", "r", "lg", "lm", "lb", "ls", "lt", "lp",
        "rh", "m", "b", "bb", "bs", "s", "ss", "", "j", "jj", "c", "k", "t", "p", "h", "",
        "", "", "a", "ae", "ya", "yae", "eo", "e", "", "", "yeo", "ye", "o", "wa", "wae", "oe",
        "", "", "yo", "u", "weo", "we", "wi", "yu", "", "", "eu", "yi", "i", "", "", "",
        "/C", "PS", "!", "-", "|", "Y=", "W=", "", "|", "-", "|", "-", "|", "#", "O", "",
    ];
}
