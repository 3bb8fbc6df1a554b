using System.Numerics;
using System.Text.RegularExpressions;

namespace VallE.Runtime.Text.Vallex.English;

/// <summary>
/// The text clean-up VALL-E X's <c>english_to_ipa</c> does before the dictionary look-up (keithito/tacotron's
/// English cleaners): abbreviations ("dr." → "doctor") and numbers read out (commas in numbers dropped, dollars
/// and cents, decimals with "point", ordinals, years 1001–2999 in pairs, other numbers in words without "and").
/// Input is already ASCII and lower-case.
/// </summary>
internal static class EnglishNormalizer
{
    private const RegexOptions Opts = RegexOptions.CultureInvariant;

    private static readonly (Regex Pattern, string Replacement)[] Abbreviations =
    [
        .. new (string, string)[]
        {
            ("mrs", "misess"), ("mr", "mister"), ("dr", "doctor"), ("st", "saint"), ("co", "company"),
            ("jr", "junior"), ("maj", "major"), ("gen", "general"), ("drs", "doctors"), ("rev", "reverend"),
            ("lt", "lieutenant"), ("hon", "honorable"), ("sgt", "sergeant"), ("capt", "captain"),
            ("esq", "esquire"), ("ltd", "limited"), ("col", "colonel"), ("ft", "fort"),
        }.Select(a => (new Regex($@"\b{a.Item1}\.", Opts | RegexOptions.IgnoreCase), a.Item2)),
    ];

    private static readonly Regex CommaNumber = new(@"([0-9][0-9,]+[0-9])", Opts);
    private static readonly Regex Pounds = new(@"£([0-9,]*[0-9]+)", Opts);
    private static readonly Regex Dollars = new(@"\$([0-9.,]*[0-9]+)", Opts);
    private static readonly Regex DecimalNumber = new(@"([0-9]+\.[0-9]+)", Opts);
    private static readonly Regex OrdinalNumber = new(@"[0-9]+(st|nd|rd|th)", Opts);
    private static readonly Regex Number = new(@"[0-9]+", Opts);

    public static string ExpandAbbreviations(string text)
    {
        foreach (var (pattern, replacement) in Abbreviations) text = pattern.Replace(text, replacement);
        return text;
    }

    public static string NormalizeNumbers(string text)
    {
        text = CommaNumber.Replace(text, m => m.Groups[1].Value.Replace(",", "", StringComparison.Ordinal));
        // Never matches after unidecode ("£" is "PS" by then); kept because upstream has it.
        text = Pounds.Replace(text, m => m.Groups[1].Value + " pounds");
        text = Dollars.Replace(text, ExpandDollars);
        text = DecimalNumber.Replace(text, m => m.Groups[1].Value.Replace(".", " point ", StringComparison.Ordinal));
        text = OrdinalNumber.Replace(text, m => NumberWords.ToWords(m.Value));
        text = Number.Replace(text, ExpandNumber);
        return text;
    }

    private static BigInteger ParseInt(string digits, string context)
    {
        // Python's int(): digits only here, "" is an error (upstream raises ValueError).
        if (digits.Length == 0 || !digits.All(c => c is >= '0' and <= '9'))
            throw new InvalidInputException($"cannot read the amount '{context}' as a number");
        return BigInteger.Parse(digits, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string ExpandDollars(Match m)
    {
        string match = m.Groups[1].Value;
        string[] parts = match.Split('.');
        if (parts.Length > 2) return match + " dollars"; // unexpected format, as upstream
        BigInteger dollars = parts[0].Length > 0 ? ParseInt(parts[0], match) : 0;
        BigInteger cents = parts.Length > 1 && parts[1].Length > 0 ? ParseInt(parts[1], match) : 0;
        string DollarUnit() => dollars == 1 ? "dollar" : "dollars";
        string CentUnit() => cents == 1 ? "cent" : "cents";
        if (!dollars.IsZero && !cents.IsZero) return $"{dollars} {DollarUnit()}, {cents} {CentUnit()}";
        if (!dollars.IsZero) return $"{dollars} {DollarUnit()}";
        if (!cents.IsZero) return $"{cents} {CentUnit()}";
        return "zero dollars";
    }

    private static string ExpandNumber(Match m)
    {
        BigInteger num = BigInteger.Parse(m.Value, System.Globalization.CultureInfo.InvariantCulture);
        if (num > 1000 && num < 3000)
        {
            int n = (int)num;
            if (n == 2000) return "two thousand";
            if (n > 2000 && n < 2010) return "two thousand " + NumberWords.ToWords((n % 100).ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (n % 100 == 0) return NumberWords.ToWords((n / 100).ToString(System.Globalization.CultureInfo.InvariantCulture)) + " hundred";
            return NumberWords.ToWords(n.ToString(System.Globalization.CultureInfo.InvariantCulture), group: 2, andWord: "", zero: "oh")
                .Replace(", ", " ", StringComparison.Ordinal);
        }
        return NumberWords.ToWords(num.ToString(System.Globalization.CultureInfo.InvariantCulture), andWord: "");
    }
}
