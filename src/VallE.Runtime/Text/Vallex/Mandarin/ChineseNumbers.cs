using System.Text;
using System.Text.RegularExpressions;

namespace VallE.Runtime.Text.Vallex.Mandarin;

/// <summary>
/// VALL-E X's <c>number_to_chinese</c>: every number (<c>\d+(\.?\d+)?</c>, any Unicode decimal digits) is read out
/// with cn2an 0.5.23's <c>an2cn(number)</c> in its default "low" mode: 2024 → 二千零二十四, 15 → 十五,
/// 3.5 → 三点五. As upstream, the numbers are found in the original text and each is then replaced at its first
/// occurrence in the text as already rewritten.
/// </summary>
internal static partial class ChineseNumbers
{
    private const string Digits = "零一二三四五六七八九";

    // The unit written after the digit at each place, counting from the right (cn2an's low-mode table).
    private static readonly string[] s_placeUnits = ["", "十", "百", "千", "万", "十", "百", "千", "亿", "十", "百", "千", "万", "十", "百", "千"];

    private const int MaxDecimals = 16;

    [GeneratedRegex(@"\d+(?:\.?\d+)?", RegexOptions.CultureInvariant)]
    private static partial Regex Number();

    public static string Replace(string text)
    {
        var numbers = Number().Matches(text);
        if (numbers.Count == 0) return text;
        foreach (Match number in numbers)
        {
            int at = text.IndexOf(number.Value, StringComparison.Ordinal);
            if (at < 0) continue; // an earlier replacement took it (Python's replace then does nothing)
            text = string.Concat(text.AsSpan(0, at), ToChinese(number.Value), text.AsSpan(at + number.Length));
        }
        return text;
    }

    /// <summary>
    /// cn2an's <c>an2cn(s)</c> (mode "low") for a string of digits with at most one '.'. Full-width digits count as
    /// ASCII ones (cn2an normalises them); any other digit is outside cn2an's range, as are more than 16 digits before
    /// the point. Digits after the 16th decimal are dropped (cn2an warns and truncates).
    /// </summary>
    /// <exception cref="InvalidInputException">cn2an rejects the number.</exception>
    public static string ToChinese(string number)
    {
        var ascii = new StringBuilder(number.Length);
        foreach (char c in number)
        {
            char d = c is >= '０' and <= '９' ? (char)('0' + (c - '０')) : c;
            if (d is not (>= '0' and <= '9') and not '.')
                throw new InvalidInputException($"cannot read the number '{number}' in Chinese: cn2an takes only the digits 0-9 ('{c}' is not one)");
            ascii.Append(d);
        }
        string s = ascii.ToString();
        int point = s.IndexOf('.');
        string integer = point < 0 ? s : s[..point];
        string decimals = point < 0 ? "" : s[(point + 1)..];
        if (decimals.Contains('.') || integer.Length == 0)
            throw new InvalidInputException($"cannot read the number '{number}' in Chinese");
        var result = new StringBuilder(IntegerToChinese(integer));
        if (decimals.Length > 0)
        {
            result.Append('点');
            foreach (char d in decimals.AsSpan(0, Math.Min(decimals.Length, MaxDecimals))) result.Append(Digits[d - '0']);
        }
        return result.ToString();
    }

    /// <summary>
    /// The integer part: leading zeros dropped, each non-zero digit followed by its place unit, zeros written once
    /// where they separate digits (and 万/亿 kept at their places), then cn2an's clean-ups and 一十… read as 十….
    /// </summary>
    private static string IntegerToChinese(string digits)
    {
        digits = digits.TrimStart('0');
        if (digits.Length == 0) digits = "0";
        if (digits.Length > s_placeUnits.Length)
            throw new InvalidInputException($"cannot read the number '{digits}' in Chinese: cn2an takes at most {s_placeUnits.Length} digits before the point");

        var sb = new StringBuilder();
        for (int i = 0; i < digits.Length; i++)
        {
            int digit = digits[i] - '0';
            int place = digits.Length - i - 1;
            if (digit != 0)
            {
                sb.Append(Digits[digit]).Append(s_placeUnits[place]);
                continue;
            }
            if (place % 4 == 0) sb.Append('零').Append(s_placeUnits[place]);
            if (i > 0 && sb[^1] != '零') sb.Append('零');
        }
        string s = sb.ToString()
            .Replace("零零", "零", StringComparison.Ordinal)
            .Replace("零万", "万", StringComparison.Ordinal)
            .Replace("零亿", "亿", StringComparison.Ordinal)
            .Replace("亿万", "亿", StringComparison.Ordinal)
            .Trim('零');
        if (s.StartsWith("一十", StringComparison.Ordinal)) s = s[1..];
        return s.Length == 0 ? "零" : s;
    }
}
