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
    /// What a non-Japanese character becomes: <c>unidecode(mark).replace(' ', '')</c>, from the shared
    /// <see cref="Unidecode"/> table (ASCII, Latin-1, Latin Extended-A, general punctuation, currency, CJK symbols,
    /// full/half-width forms); any character outside that table (Hangul, Cyrillic, rarer symbols...) is dropped,
    /// where unidecode would transliterate it.
    /// </summary>
    public static string TransliterateMark(Rune r) =>
        (Unidecode.Map(r.Value) ?? "").Replace(" ", "", StringComparison.Ordinal);
}
