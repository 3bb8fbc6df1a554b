using System.Text;

namespace VallE.Runtime.Text.Ecker;

/// <summary>
/// Katakana → hiragana as pykakasi 2.3.0 writes its <c>hira</c> field (the step it applies to every piece of text,
/// kanji readings included). Written from pykakasi's observable behaviour, not from its code (GPL-3.0):
/// <list type="bullet">
/// <item>ァ..ヶ (U+30A1..U+30F6, ヴ ヵ ヶ included) → the hiragana 0x60 below (ヴ → ゔ, ヵ → ゕ, ヶ → ゖ);</item>
/// <item>ヷ ヸ ヹ ヺ ・ ー (U+30F7..U+30FC) stay as they are (so ラーメン → らーめん);</item>
/// <item>half-width ｦ..ﾝ and ﾞ go through pykakasi's half-width table to full-width katakana (a voiced pair such as
///   ｶﾞ or ｳﾞ first, else one character), then 0x60 down, except ﾞ which becomes ゛ (U+309B). pykakasi applies the 0x60
///   shift to ｰ's full-width ー as well, so ｰ becomes ゜ (U+309C): reproduced, as upstream would see it;</item>
/// <item>small katakana ヰ ヱ ヲ of the Small Kana Extension (U+1B164..U+1B166) → small hiragana (U+1B150..U+1B152),
///   small ン (U+1B167) → ん;</item>
/// <item>anything else is copied.</item>
/// </list>
/// pykakasi converts in windows of 32 characters, and a half-width kana in a window's last place counts as two
/// characters (its voiced-pair lookup takes a two-character slice that is one character long): the character after
/// it is lost, so a voiced pair across the edge loses its mark (31 ｱ then ｶﾞ → 31 あ then か). Reproduced too
/// (checked against pykakasi 2.3.0 itself, <c>pykakasi-hira.json</c>).
/// </summary>
internal static class KakasiKana
{
    private const int Shift = 0x60; // KATAKANA LETTER A - HIRAGANA LETTER A
    private const int Window = 32;

    // ｦ..ﾝ (U+FF66..U+FF9D), one full-width katakana each, in code point order.
    private const string HalfWidthTargets =
        "ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン";

    // Full-width katakana that a following half-width ﾞ voices (the next code point), as pykakasi's table pairs them.
    private const string Voiceable = "カキクケコサシスセソタチツテトハヒフヘホ";

    /// <summary>pykakasi's <c>hira</c> of a piece of text: katakana turned into hiragana as described above.</summary>
    public static string ToHiragana(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var runes = new List<Rune>(text.Length);
        foreach (var r in text.EnumerateRunes()) runes.Add(r);
        var sb = new StringBuilder(text.Length);
        int i = 0;
        while (i < runes.Count)
        {
            int end = Math.Min(i + Window, runes.Count);
            int taken = ConvertKanaPrefix(runes, i, end, sb);
            if (taken > 0) { i += taken; continue; }
            sb.Append(runes[i].ToString());
            i++;
        }
        return sb.ToString();
    }

    /// <summary>True for the characters pykakasi treats as katakana (its K2 class): ァ..ー, ｦ..ﾞ, U+1B164..U+1B167.</summary>
    public static bool IsKatakana(int c) =>
        c is (> 0x30A0 and < 0x30FD) or (> 0xFF65 and < 0xFF9F) or (>= 0x1B164 and <= 0x1B167);

    /// <summary>True for the characters pykakasi treats as hiragana (its H2 class): ぁ..ゖ, U+1B150..U+1B152.</summary>
    public static bool IsHiragana(int c) => c is (> 0x3040 and < 0x3097) or (>= 0x1B150 and <= 0x1B152);

    // Converts the katakana at the start of runes[start..end) into sb; returns how many runes it consumed (0 when the
    // first one is not katakana), which is one more than the window holds when a half-width kana ends it (pykakasi's
    // count, see above). The voiced-pair lookahead stops at end, as pykakasi's window does.
    private static int ConvertKanaPrefix(List<Rune> runes, int start, int end, StringBuilder sb)
    {
        int x = start;
        while (x < end)
        {
            int c = runes[x].Value;
            if (c is >= 0x1B164 and < 0x1B167) { sb.Append(char.ConvertFromUtf32(c - 0x14)); x++; }
            else if (c == 0x1B167) { sb.Append('ん'); x++; }
            else if (c is > 0x30A0 and < 0x30F7) { sb.Append((char)(c - Shift)); x++; }
            else if (c is >= 0x30F7 and < 0x30FD) { sb.Append((char)c); x++; }
            else if (c is > 0xFF65 and < 0xFF9F)
            {
                bool voicedPair = x + 1 < end && runes[x + 1].Value == 0xFF9E && HalfWidthBase(c) is char b
                                  && (Voiceable.Contains(b) || b == 'ウ');
                if (voicedPair)
                {
                    char full = HalfWidthBase(c)!.Value == 'ウ' ? 'ヴ' : (char)(HalfWidthBase(c)!.Value + 1);
                    sb.Append((char)(full - Shift));
                    x += 2;
                }
                else
                {
                    sb.Append(c == 0xFF9E ? '゛' : (char)(HalfWidthBase(c)!.Value - Shift));
                    x += x + 1 == end ? 2 : 1;
                }
            }
            else break;
        }
        return x - start;
    }

    private static char? HalfWidthBase(int c) => c is >= 0xFF66 and <= 0xFF9D ? HalfWidthTargets[c - 0xFF66] : null;
}
