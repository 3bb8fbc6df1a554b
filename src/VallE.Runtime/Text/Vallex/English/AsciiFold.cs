using System.Text;

namespace VallE.Runtime.Text.Vallex.English;

/// <summary>
/// Transliteration to ASCII in the spirit of the <c>unidecode</c> package, which VALL-E X's English cleaner
/// runs first. Our own table, covering what English text carries: ASCII as is; Latin-1 Supplement and Latin
/// Extended-A (letters without their accents, ligatures spelled out: "é" → "e", "æ" → "ae", "ß" → "ss");
/// the General Punctuation block (dashes, quotes, ellipsis, spaces); the common currency and other symbols
/// ("£" → "PS", "€" → "EUR", "°" → "deg"). Everything else (Han, Kana, Cyrillic, Greek, emoji...) becomes "",
/// where unidecode romanises it; text in those scripts belongs in a [ZH]/[JA] segment anyway.
/// </summary>
internal static class AsciiFold
{
    // U+00A0..U+00BF
    private static readonly string[] Latin1Symbols =
    [
        " ", "!", "C/", "PS", "$?", "Y=", "|", "SS", "\"", "(c)", "a", "<<", "!", "", "(r)", "-",
        "deg", "+-", "2", "3", "'", "u", "P", "*", ",", "1", "o", ">>", " 1/4", " 1/2", " 3/4", "?",
    ];

    // U+00C0..U+00FF
    private static readonly string[] Latin1Letters =
    [
        "A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I", "I",
        "D", "N", "O", "O", "O", "O", "O", "x", "O", "U", "U", "U", "U", "Y", "Th", "ss",
        "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
        "d", "n", "o", "o", "o", "o", "o", "/", "o", "u", "u", "u", "u", "y", "th", "y",
    ];

    // U+0100..U+017F, one entry per code point.
    private static readonly string[] LatinExtendedA =
    [
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

    /// <summary>The ASCII transliteration of <paramref name="text"/>.</summary>
    public static string Fold(string text)
    {
        bool ascii = true;
        foreach (char c in text) if (c >= 0x80) { ascii = false; break; }
        if (ascii) return text;
        var sb = new StringBuilder(text.Length + 8);
        foreach (Rune r in text.EnumerateRunes()) sb.Append(Map(r.Value));
        return sb.ToString();
    }

    internal static string Map(int cp) => cp switch
    {
        < 0x80 => ((char)cp).ToString(),
        < 0xA0 => "",
        < 0xC0 => Latin1Symbols[cp - 0xA0],
        < 0x100 => Latin1Letters[cp - 0xC0],
        < 0x180 => LatinExtendedA[cp - 0x100],
        >= 0x2000 and < 0x2070 => Punctuation[cp - 0x2000],
        0x20A0 => "ECU", 0x20A1 => "CL", 0x20A2 => "Cr", 0x20A3 => "FF", 0x20A4 => "L", 0x20A5 => "mil",
        0x20A6 => "N", 0x20A7 => "Pts", 0x20A8 => "Rs", 0x20A9 => "W", 0x20AA => "NS", 0x20AB => "D",
        0x20AC => "EUR", 0x20AD => "K", 0x20AE => "T", 0x20AF => "Dr", 0x20B0 => "Pf", 0x20B1 => "P",
        0x2116 => "No. ", 0x2122 => "(tm)", 0x2190 => "-", 0x2192 => "-", 0x2212 => "-", 0x2215 => "/",
        0x2264 => "<=", 0x2265 => ">=",
        0x3000 => " ", 0xFEFF => "",
        _ => "",
    };
}
