using System.Text;
using System.Text.RegularExpressions;

namespace VallE.Runtime.Text.Vallex.English;

/// <summary>
/// English number words as the <c>inflect</c> package's <c>engine().number_to_words</c> writes them, for the
/// calls VALL-E X's <c>english.py</c> makes: a string of ASCII digits, optionally with an ordinal suffix
/// (<c>st</c>/<c>nd</c>/<c>rd</c>/<c>th</c>), grouping 0 (plain, with "and" and commas between thousands) or 2
/// (pairs of digits, as for years), and the words for "and" and zero chosen by the caller. Signs, decimals and
/// thresholds are not needed there and not supported.
/// </summary>
/// <remarks>
/// The algorithm follows inflect's documented behaviour: "1234" → "one thousand, two hundred and thirty-four";
/// with <c>andword: ""</c> → "one thousand, two hundred thirty-four"; "1005" → "one thousand and five" (the "and"
/// before a last lone word); grouping 2 with zero "oh": "1905" → "nineteen, oh five"; "21st" → "twenty-first".
/// Numbers of 37 digits or more have no name in inflect (it raises); here that is an
/// <see cref="InvalidInputException"/>.
/// </remarks>
internal static class NumberWords
{
    private static readonly string[] Units = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
    private static readonly string[] Teens =
        ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"];
    private static readonly string[] Tens = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
    private static readonly string[] Scales =
    [
        " ", " thousand", " million", " billion", " trillion", " quadrillion", " quintillion", " sextillion",
        " septillion", " octillion", " nonillion", " decillion",
    ];

    // Ordinal endings of the last word: "twenty" -> "twentieth", "one" -> "first", ... otherwise + "th".
    private static readonly (string Cardinal, string Ordinal)[] OrdinalEndings =
    [
        ("ty", "tieth"), ("one", "first"), ("two", "second"), ("three", "third"), ("five", "fifth"),
        ("eight", "eighth"), ("nine", "ninth"), ("twelve", "twelfth"),
    ];

    private static readonly Regex CommaBeforeLastWord = new(@", (\S+)\s+\z", RegexOptions.CultureInvariant);
    private static readonly Regex SpacesBeforeComma = new(@"\s+,", RegexOptions.CultureInvariant);
    private static readonly Regex Spaces = new(@"\s+", RegexOptions.CultureInvariant);

    /// <summary>inflect's <c>number_to_words(num, group=group, andword=andWord, zero=zero)</c> for a digit string.</summary>
    public static string ToWords(string number, int group = 0, string andWord = "and", string zero = "zero")
    {
        string num = number;
        bool ordinal = num.Length >= 2 && num[^2..] is "st" or "nd" or "rd" or "th";
        if (ordinal) num = num[..^2];
        // Only digits reach here from english.py; inflect drops anything else and reads "" as 0.
        var digits = new StringBuilder(num.Length);
        foreach (char c in num) if (c is >= '0' and <= '9') digits.Append(c);
        string chunk = digits.Length == 0 ? "0" : digits.ToString();

        chunk = group == 2 ? PairsToWords(chunk, zero) : group == 0 ? PlainToWords(chunk, andWord, zero) :
            throw new ArgumentOutOfRangeException(nameof(group), group, "only grouping 0 and 2 are supported");
        if (chunk.EndsWith(", ", StringComparison.Ordinal)) chunk = chunk[..^2];
        chunk = SpacesBeforeComma.Replace(chunk, ",");
        if (group == 0) chunk = CommaBeforeLastWord.Replace(chunk, m => $" {andWord} {m.Groups[1].Value}", 1);
        chunk = Spaces.Replace(chunk, " ").Trim(' ');

        List<string> parts = [.. chunk.Split(", ")];
        if (ordinal) parts[^1] = ToOrdinal(parts[^1]);
        // Grouped output is the parts joined by ", "; plain output too (no decimal part here).
        return string.Join(", ", parts);
    }

    private static string ToOrdinal(string words)
    {
        foreach (var (cardinal, ordinal) in OrdinalEndings)
            if (words.EndsWith(cardinal, StringComparison.Ordinal)) return words[..^cardinal.Length] + ordinal;
        return words + "th";
    }

    private static string Scale(int index) => index < Scales.Length ? Scales[index]
        : throw new InvalidInputException("number too large to be read out in English words (more than 36 digits)");

    private static string TensWords(int tens, int units, int scale = 0)
    {
        if (tens == 1) return Teens[units] + Scales[scale];
        string hyphen = tens != 0 && units != 0 ? "-" : "";
        return Tens[tens] + hyphen + Units[units] + Scale(scale);
    }

    /// <summary>Grouping 0: hundreds, tens and units of each group of three digits, with scale words.</summary>
    private static string PlainToWords(string digits, string andWord, string zero)
    {
        string trimmed = digits.TrimStart('0');
        if (trimmed.Length == 0) return zero;
        if (trimmed == "1") return "one";
        // From the right: each group of three digits becomes "<h> hundred <and> <tens-units><scale>, ".
        var groups = new List<string>();
        int scale = 0, end = trimmed.Length;
        for (; end >= 3; end -= 3, scale++)
        {
            int h = trimmed[end - 3] - '0', t = trimmed[end - 2] - '0', u = trimmed[end - 1] - '0';
            string part;
            if (h != 0)
            {
                string and = t != 0 || u != 0 ? $" {andWord} " : "";
                part = $"{Units[h]} hundred{and}{TensWords(t, u)}{Scale(scale)}, ";
            }
            else part = t != 0 || u != 0 ? $"{TensWords(t, u)}{Scale(scale)}, " : "";
            groups.Add(part);
        }
        string head = end switch
        {
            2 => $"{TensWords(trimmed[0] - '0', trimmed[1] - '0', scale)}, ",
            1 => $"{Units[trimmed[0] - '0']}{Scale(scale)}, ",
            _ => "",
        };
        groups.Reverse();
        return head + string.Concat(groups);
    }

    /// <summary>Grouping 2: pairs of digits from the left ("19" "05" → "nineteen, oh five"), a last odd digit alone.</summary>
    private static string PairsToWords(string digits, string zero)
    {
        var sb = new StringBuilder();
        int i = 0;
        for (; i + 1 < digits.Length; i += 2)
        {
            int t = digits[i] - '0', u = digits[i + 1] - '0';
            if (t != 0) sb.Append(TensWords(t, u)).Append(", ");
            else if (u != 0) sb.Append($" {zero} {Units[u]}, ");
            else sb.Append($" {zero} {zero}, ");
        }
        if (i < digits.Length)
        {
            int u = digits[i] - '0';
            sb.Append(u != 0 ? $"{Units[u]}, " : $" {zero}, ");
        }
        return sb.ToString();
    }
}
