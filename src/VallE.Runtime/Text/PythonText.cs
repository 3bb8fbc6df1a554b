using System.Globalization;
using System.Text;

namespace VallE.Runtime.Text;

/// <summary>
/// Python 3's string semantics where the upstream text pipeline depends on them, because .NET's differ:
/// <list type="bullet">
/// <item>Python's <c>\w</c> (str patterns) is <c>str.isalnum() or '_'</c> = letters (L*), Nd, Nl, No and '_'.
/// .NET's <c>\w</c> also takes combining marks (Mn) and every connector punctuation (Pc, e.g. '‿'), and
/// leaves out Nl/No (e.g. '²', '½'). Checked over all code points against CPython 3.11 (Unicode 14).</item>
/// <item>Python's <c>\s</c> and <c>str.isspace()</c> = \t..\r, \x1c..\x1f, \x85 and Z* (Zs, Zl, Zp); .NET's
/// <c>\s</c> lacks \x1c..\x1f.</item>
/// <item>Python compares and sorts strings by code point; .NET's ordinal comparison is by UTF-16 unit, which
/// puts U+E000..U+FFFF after the supplementary planes.</item>
/// </list>
/// </summary>
public static class PythonText
{
    /// <summary>Python's <c>\w</c> for one code point.</summary>
    public static bool IsWord(Rune r)
    {
        if (r.Value == '_') return true;
        return Rune.GetUnicodeCategory(r) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
                or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber
                or UnicodeCategory.OtherNumber => true,
            _ => false,
        };
    }

    /// <summary>Python's <c>\s</c> / <c>str.isspace()</c> for one UTF-16 unit (all such code points are in the BMP).</summary>
    public static bool IsSpace(char c) => c switch
    {
        ' ' or (>= '\t' and <= '\r') or (>= '\x1c' and <= '\x1f') or '\x85' => true,
        < '\x80' => false,
        _ => CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.SpaceSeparator
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator,
    };

    /// <summary>Python's <c>str.strip()</c> with no argument.</summary>
    public static string Strip(string s)
    {
        int start = 0, end = s.Length;
        while (start < end && IsSpace(s[start])) start++;
        while (end > start && IsSpace(s[end - 1])) end--;
        return start == 0 && end == s.Length ? s : s[start..end];
    }

    /// <summary>Python's <c>str.split()</c> with no argument: runs of whitespace separate, no empty fields.</summary>
    public static List<string> SplitWhitespace(string s)
    {
        var fields = new List<string>();
        int i = 0;
        while (i < s.Length)
        {
            while (i < s.Length && IsSpace(s[i])) i++;
            int start = i;
            while (i < s.Length && !IsSpace(s[i])) i++;
            if (i > start) fields.Add(s[start..i]);
        }
        return fields;
    }

    /// <summary>True when the string holds a Python whitespace character.</summary>
    public static bool ContainsSpace(string s)
    {
        foreach (char c in s) if (IsSpace(c)) return true;
        return false;
    }

    /// <summary>
    /// <c>re.findall(r"\w+|[^\w\s]", s)</c> with Python's classes: maximal runs of word code points, and every
    /// other non-space code point on its own. Appends to <paramref name="into"/>.
    /// </summary>
    public static void FindWordsAndSymbols(string s, List<string> into)
    {
        int i = 0;
        while (i < s.Length)
        {
            Rune.DecodeFromUtf16(s.AsSpan(i), out Rune r, out int width);
            if (IsWord(r))
            {
                int start = i;
                i += width;
                while (i < s.Length)
                {
                    Rune.DecodeFromUtf16(s.AsSpan(i), out Rune next, out int w);
                    if (!IsWord(next)) break;
                    i += w;
                }
                into.Add(s[start..i]);
            }
            else
            {
                if (!IsSpace(s[i])) into.Add(s.Substring(i, width));
                i += width;
            }
        }
    }

    /// <summary>Python's string order: by code point (what <c>sorted()</c> on a list of str does).</summary>
    public static readonly IComparer<string> CodePointComparer = Comparer<string>.Create(CompareByCodePoint);

    public static int CompareByCodePoint(string? a, string? b)
    {
        if (ReferenceEquals(a, b)) return 0;
        if (a is null) return -1;
        if (b is null) return 1;
        int i = 0, j = 0;
        while (i < a.Length && j < b.Length)
        {
            int ca = CodePointAt(a, i, out int wa), cb = CodePointAt(b, j, out int wb);
            if (ca != cb) return ca < cb ? -1 : 1;
            i += wa;
            j += wb;
        }
        return (a.Length - i).CompareTo(b.Length - j) switch { < 0 => -1, > 0 => 1, _ => 0 };
    }

    /// <summary>The code point at <paramref name="index"/>; a lone surrogate counts as itself, as in Python.</summary>
    private static int CodePointAt(string s, int index, out int width)
    {
        if (Rune.DecodeFromUtf16(s.AsSpan(index), out Rune r, out width) == System.Buffers.OperationStatus.Done)
            return r.Value;
        width = 1;
        return s[index];
    }
}
