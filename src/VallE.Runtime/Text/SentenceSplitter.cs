using System.Globalization;
using System.Text;

namespace VallE.Runtime.Text;

/// <summary>
/// Cuts long text into sentences for <c>valle synth --sentences</c>, so each is synthesised (and written) on its
/// own. The pieces come back trimmed, with every whitespace run (newlines included) turned into one space, and
/// never empty.
/// <list type="bullet">
/// <item>A sentence ends after <c>.</c>, <c>!</c> or <c>?</c> (or a run such as <c>?!</c>), optionally followed
/// by closing quotes or brackets, when whitespace or the end follows and the next word does not start with a
/// lowercase letter ("\"Really?\" he asked" stays whole).</item>
/// <item>A period does not end a sentence after a title or a fixed abbreviation (Mr., Dr., e.g., i.e., vs.,
/// Fig. ...), after an initial ("J. K. Rowling"), or after "No."/"p."-style abbreviations followed by a digit.
/// Decimals ("3.5") and times ("3:45") never split because no whitespace follows the period. An ellipsis
/// ("..." or "…") is a pause, not an end.</item>
/// <item>CJK full stops (<c>。！？</c>) always end a sentence; a blank line always ends one.</item>
/// <item>A piece longer than the cap is cut at its last clause mark (<c>, ; : —</c>) before the cap, else at its
/// last space, else (one giant word) at the cap itself, never inside a surrogate pair.</item>
/// <item>A piece without any letter or digit (stray punctuation) is joined to its neighbour.</item>
/// </list>
/// </summary>
public static class SentenceSplitter
{
    public const int DefaultMaxChars = 300;
    public const int MinMaxChars = 16;

    // Lower-cased, without the final period. Never ends a sentence: titles and abbreviations that always
    // precede something.
    private static readonly HashSet<string> NeverFinal = new(StringComparer.Ordinal)
    {
        "mr", "mrs", "ms", "mx", "dr", "prof", "sr", "rev", "hon", "gen", "col", "lt", "sgt", "capt", "cmdr",
        "gov", "sen", "rep", "messrs", "mme", "mlle", "st", "mt", "ft", "vs", "cf", "e.g", "i.e", "viz", "approx",
        "ca", "fig", "figs", "eq", "eqs", "vol", "vols", "pp", "ch", "sec", "dept", "jan", "feb", "mar", "apr",
        "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    };

    // Does not end a sentence when a number follows ("No. 5", "p. 12"); may end one otherwise ("I said no.").
    private static readonly HashSet<string> BeforeNumber = new(StringComparer.Ordinal) { "no", "nos", "nr", "p", "op", "art" };

    private const string Terminals = ".!?‼⁇⁈⁉";
    private const string CjkTerminals = "。！？｡";
    private const string Closers = "\"'”’»)]}」』）】〉》〕";
    private const string Openers = "\"'“‘«([{「『（【〈《〔¿¡";
    private const string ClauseMarks = ",;:—–，、；：";

    /// <summary>Sentences of <paramref name="text"/>, each at most <paramref name="maxChars"/> UTF-16 units long.</summary>
    public static IReadOnlyList<string> Split(string text, int maxChars = DefaultMaxChars)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChars, MinMaxChars);

        var sentences = new List<string>();
        foreach (string paragraph in Paragraphs(text))
            SplitParagraph(paragraph, sentences);
        sentences = MergePunctuationOnly(sentences);

        var capped = new List<string>(sentences.Count);
        foreach (string sentence in sentences) Cap(sentence, maxChars, capped);
        return capped;
    }

    /// <summary>Paragraphs (separated by blank lines), each with its whitespace collapsed to single spaces.</summary>
    private static IEnumerable<string> Paragraphs(string text)
    {
        var current = new StringBuilder();
        int lineBreaks = 0;      // line breaks in the whitespace run being skipped
        bool inSpace = false;
        char previous = '\0';
        foreach (char c in text)
        {
            if (PythonText.IsSpace(c))
            {
                // \r\n, \n, a lone \r and U+2028 are one line break each; U+2029 separates paragraphs.
                if (c is '\r' or '\u2028' || c == '\n' && previous != '\r') lineBreaks++;
                else if (c == '\u2029') lineBreaks += 2;
                inSpace = true;
                previous = c;
                continue;
            }
            if (inSpace && current.Length > 0)
            {
                if (lineBreaks >= 2)
                {
                    yield return current.ToString();
                    current.Clear();
                }
                else current.Append(' ');
            }
            inSpace = false;
            lineBreaks = 0;
            previous = c;
            current.Append(c);
        }
        if (current.Length > 0) yield return current.ToString();
    }

    private static void SplitParagraph(string p, List<string> into)
    {
        int start = 0, i = 0;
        while (i < p.Length)
        {
            char c = p[i];
            if (CjkTerminals.Contains(c))
            {
                int end = i + 1;
                while (end < p.Length && (CjkTerminals.Contains(p[end]) || Terminals.Contains(p[end]))) end++;
                while (end < p.Length && Closers.Contains(p[end])) end++;
                Add(p, start, end, into);
                start = i = end;
                continue;
            }
            if (!Terminals.Contains(c) && c != '…') { i++; continue; }

            int runStart = i, runEnd = i;
            while (runEnd < p.Length && (Terminals.Contains(p[runEnd]) || p[runEnd] == '…')) runEnd++;
            int after = runEnd;
            while (after < p.Length && Closers.Contains(p[after])) after++;
            i = after;
            if (after < p.Length && p[after] != ' ') continue; // "3.5", "e.g", "a.m", "?!x": not an end

            if (IsSentenceEnd(p, runStart, runEnd, after))
            {
                Add(p, start, after, into);
                start = after;
            }
        }
        Add(p, start, p.Length, into);
    }

    private static bool IsSentenceEnd(string p, int runStart, int runEnd, int after)
    {
        ReadOnlySpan<char> run = p.AsSpan(runStart, runEnd - runStart);
        if (run.Contains('…') || run.Contains("..", StringComparison.Ordinal)) return false; // ellipsis: a pause

        string next = NextWord(p, after);
        if (next.Length > 0 && char.IsLower(next, 0)) return false; // "\"Really?\" he asked", "approx. five"
        if (run.Length != 1 || run[0] != '.') return true;           // ! ? and mixed runs end here

        string word = WordBefore(p, runStart);
        if (NeverFinal.Contains(word)) return false;
        if (BeforeNumber.Contains(word) && next.Length > 0 && char.IsDigit(next, 0)) return false;
        // An initial: one upper-case letter ("J. K. Rowling"); "I" is far more often the pronoun.
        if (word.Length == 1 && char.IsLetter(word[0]) && word != "i" && IsUpperInitial(p, runStart)) return false;
        return true;
    }

    private static bool IsUpperInitial(string p, int dot) => dot > 0 && char.IsUpper(p[dot - 1]);

    /// <summary>The word before position <paramref name="end"/>, lower-cased, without opening quotes or brackets.</summary>
    private static string WordBefore(string p, int end)
    {
        int start = end;
        while (start > 0 && p[start - 1] != ' ') start--;
        while (start < end && Openers.Contains(p[start])) start++;
        return p[start..end].ToLower(CultureInfo.InvariantCulture);
    }

    /// <summary>The word after the space at <paramref name="at"/>, without opening quotes or brackets.</summary>
    private static string NextWord(string p, int at)
    {
        int start = at;
        while (start < p.Length && p[start] == ' ') start++;
        while (start < p.Length && Openers.Contains(p[start])) start++;
        int end = start;
        while (end < p.Length && p[end] != ' ') end++;
        return p[start..end];
    }

    private static void Add(string p, int start, int end, List<string> into)
    {
        string piece = p[start..end].Trim(' ');
        if (piece.Length > 0) into.Add(piece);
    }

    /// <summary>Joins pieces without any letter or digit ("!!", "—") to the previous piece, or the next one.</summary>
    private static List<string> MergePunctuationOnly(List<string> pieces)
    {
        var merged = new List<string>(pieces.Count);
        string? carry = null;
        foreach (string piece in pieces)
        {
            if (!HasLetterOrDigit(piece))
            {
                if (merged.Count > 0) merged[^1] = merged[^1] + " " + piece;
                else carry = carry is null ? piece : carry + " " + piece;
                continue;
            }
            merged.Add(carry is null ? piece : carry + " " + piece);
            carry = null;
        }
        if (carry is not null) merged.Add(carry); // nothing but punctuation in the whole text
        return merged;
    }

    private static bool HasLetterOrDigit(string s)
    {
        foreach (Rune r in s.EnumerateRunes()) if (Rune.IsLetterOrDigit(r)) return true;
        return false;
    }

    /// <summary>Cuts a sentence longer than <paramref name="max"/> at clause marks, then spaces, then anywhere.</summary>
    private static void Cap(string sentence, int max, List<string> into)
    {
        string rest = sentence;
        while (rest.Length > max)
        {
            int cut = LastCut(rest, max, clause: true);
            if (cut < 0) cut = LastCut(rest, max, clause: false);
            if (cut < 0) cut = char.IsLowSurrogate(rest[max]) ? max - 1 : max; // one giant word
            string head = rest[..cut].Trim(' ');
            if (head.Length > 0) into.Add(head);
            rest = rest[cut..].TrimStart(' ');
        }
        if (rest.Length > 0) into.Add(rest);
    }

    /// <summary>
    /// The last cut position within the first <paramref name="max"/> characters that leaves at least a third of
    /// them in the head (so the pieces stay sentence-sized): after a clause mark, or at a space.
    /// </summary>
    private static int LastCut(string s, int max, bool clause)
    {
        int min = max / 3;
        for (int cut = max; cut > min; cut--)
        {
            if (clause)
            {
                // After a clause mark followed by a space (CJK marks need none); cut < s.Length here.
                if (ClauseMarks.Contains(s[cut - 1]) && (s[cut] == ' ' || s[cut - 1] > 0x2FFF))
                    return cut;
            }
            else if (s[cut] == ' ') return cut;
        }
        return -1;
    }
}
