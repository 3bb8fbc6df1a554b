using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;

namespace VallE.Runtime.Text.Vallex.Mandarin;

/// <summary>
/// pypinyin 0.55.0's <c>Style.BOPOMOFO</c> for one reading: tone marks become a tone digit at the end, pinyin
/// spelling rules are undone step by step (iu → iou, ui → uei, y/w initials, ü after j/q/x, zhi/chi/shi/ri/zi/ci/si
/// lose their i, …), each remaining letter or letter group maps to one zhuyin symbol, and the tone digit to its mark
/// (tone 1 none, 2 ˊ, 3 ˇ, 4 ˋ, neutral ˙ after the syllable). Anything without pinyin (a character pypinyin does not
/// know) goes through the same steps, as upstream does, and so ends with ˙.
/// </summary>
internal static partial class Bopomofo
{
    private static readonly ConcurrentDictionary<string, string> s_cache = new(StringComparer.Ordinal);

    // Toned vowels written as one code point, and the tone-digit spelling pypinyin gives them.
    private const string TonedLetters = "āáǎàēéěèōóǒòīíǐìūúǔùüǖǘǚǜńňǹḿếề";
    private static readonly string[] s_tonedSpellings =
    [
        "a1", "a2", "a3", "a4", "e1", "e2", "e3", "e4", "o1", "o2", "o3", "o4", "i1", "i2", "i3", "i4",
        "u1", "u2", "u3", "u4", "v", "v1", "v2", "v3", "v4", "n2", "n3", "n4", "m2", "ê2", "ê4",
    ];

    // Toned letters written with a combining mark (two code points).
    private static readonly (string Toned, string Spelling)[] s_combiningToned =
    [
        ("m\u0304", "m1"), ("m\u0300", "m4"), ("ê\u0304", "ê1"), ("ê\u030C", "ê3"),
    ];

    // Letter (or placeholder for a letter group) -> zhuyin; tone digits -> marks.
    private const string Letters = "bpmfdtnlgkhjqxZCSrzcsiuvaoeEAIOUMNKGR2340ê";
    private const string Zhuyin = "ㄅㄆㄇㄈㄉㄊㄋㄌㄍㄎㄏㄐㄑㄒㄓㄔㄕㄖㄗㄘㄙㄧㄨㄩㄚㄛㄜㄝㄞㄟㄠㄡㄢㄣㄤㄥㄦˊˇˋ˙ㄝ";

    /// <summary>The zhuyin of one reading (e.g. "zhōng" → "ㄓㄨㄥ", "ma" → "ㄇㄚ˙").</summary>
    public static string FromPinyin(string pinyin) => s_cache.GetOrAdd(pinyin, Convert);

    private static string Convert(string pinyin)
    {
        string s = ToneToDigit(pinyin);
        s = ToneDigitLast().Replace(s, "${1}${3}${2}");
        foreach (var (pattern, replacement) in s_rules) s = pattern.Replace(s, replacement);
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            int i = Letters.IndexOf(c);
            sb.Append(i >= 0 ? Zhuyin[i] : c);
        }
        return sb.ToString();
    }

    /// <summary>Tone marks to digits: one-code-point letters first, then the combining sequences.</summary>
    private static string ToneToDigit(string pinyin)
    {
        var sb = new StringBuilder(pinyin.Length + 1);
        foreach (char c in pinyin)
        {
            int i = TonedLetters.IndexOf(c);
            if (i >= 0) sb.Append(s_tonedSpellings[i]);
            else sb.Append(c);
        }
        foreach (var (toned, spelling) in s_combiningToned) sb.Replace(toned, spelling);
        return sb.ToString();
    }

    [GeneratedRegex("^([a-zêü]+)([1-5])([a-zêü]*)$", RegexOptions.CultureInvariant)]
    private static partial Regex ToneDigitLast();

    // The spelling rules, applied in this order, each to every match.
    private static readonly (Regex Pattern, string Replacement)[] s_rules =
    [
        (Rx(@"^m(\d)$"), "mu$1"),        // 呣
        (Rx(@"^n(\d)$"), "N$1"),         // 嗯
        (Rx("^r5$"), "er5"),             // 儿 as a neutral suffix
        (Rx("iu"), "iou"),
        (Rx("ui"), "uei"),
        (Rx("ong"), "ung"),
        (Rx("^yi?"), "i"),
        (Rx("^wu?"), "u"),
        (Rx("iu"), "v"),
        (Rx("^([jqx])u"), "$1v"),
        (Rx("([iuv])n"), "$1en"),
        (Rx("^zhi?"), "Z"),
        (Rx("^chi?"), "C"),
        (Rx("^shi?"), "S"),
        (Rx("^([zcsr])i"), "$1"),
        (Rx("ai"), "A"),
        (Rx("ei"), "I"),
        (Rx("ao"), "O"),
        (Rx("ou"), "U"),
        (Rx("ang"), "K"),
        (Rx("eng"), "G"),
        (Rx("an"), "M"),
        (Rx("en"), "N"),
        (Rx("er"), "R"),
        (Rx("eh"), "E"),
        (Rx("([iv])e"), "$1E"),
        (Rx("([^0-4])$"), "${1}0"),      // no tone digit: neutral
        (Rx("1$"), ""),                  // tone 1 has no mark
    ];

    private static Regex Rx(string pattern) => new(pattern, RegexOptions.CultureInvariant);
}
