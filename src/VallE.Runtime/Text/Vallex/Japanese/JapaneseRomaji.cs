using System.Text;

namespace VallE.Runtime.Text.Vallex.Japanese;

/// <summary>
/// Romaji with pitch-accent marks from OpenJTalk's full-context labels, as VALL-E X's
/// <c>japanese_to_romaji_with_accent</c> writes it: the text is cut at every non-Japanese character; each run of
/// Japanese characters becomes its label phonemes (<c>ch</c> → ʧ, <c>sh</c> → ʃ, <c>cl</c> → Q; silences and
/// pauses left out), preceded by a space unless nothing was written yet; each cut character becomes its
/// transliteration. After a phoneme comes a space at an accent-phrase boundary, ↓ after the accent nucleus,
/// ↑ where the pitch rises after the phrase's first mora.
/// </summary>
internal static class JapaneseRomaji
{
    /// <summary>One piece of the cut text: a run of Japanese characters, or one transliterated mark.</summary>
    public readonly record struct Piece(string Text, bool IsJapanese);

    /// <summary>The text cut as upstream cuts it (after spelling out ％); empty runs are left out.</summary>
    public static List<Piece> Split(string text)
    {
        text = JapaneseText.SpellSymbols(text);
        var pieces = new List<Piece>();
        var run = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            if (JapaneseText.IsJapanese(rune))
            {
                run.Append(rune.ToString());
                continue;
            }
            if (run.Length > 0) { pieces.Add(new Piece(run.ToString(), true)); run.Clear(); }
            pieces.Add(new Piece(JapaneseText.TransliterateMark(rune), false));
        }
        if (run.Length > 0) pieces.Add(new Piece(run.ToString(), true));
        return pieces;
    }

    /// <summary>
    /// Joins the pieces: <paramref name="labelsOf"/> gives the labels of piece i (a Japanese run).
    /// </summary>
    public static string Join(IReadOnlyList<Piece> pieces, Func<int, IReadOnlyList<string>> labelsOf)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < pieces.Count; i++)
        {
            if (!pieces[i].IsJapanese)
            {
                sb.Append(pieces[i].Text);
                continue;
            }
            if (sb.Length > 0) sb.Append(' ');
            AppendPhonemes(sb, labelsOf(i));
        }
        return sb.ToString();
    }

    /// <summary>The phonemes of one run's labels, with the accent marks and phrase spaces.</summary>
    public static void AppendPhonemes(StringBuilder sb, IReadOnlyList<string> labels)
    {
        for (int n = 0; n < labels.Count; n++)
        {
            string label = labels[n];
            string phoneme = Phoneme(label);
            if (IsSilence(phoneme)) continue;
            sb.Append(phoneme.Replace("ch", "ʧ", StringComparison.Ordinal)
                .Replace("sh", "ʃ", StringComparison.Ordinal)
                .Replace("cl", "Q", StringComparison.Ordinal));

            int a1 = AccentA1(label);
            int a2 = NumberBetween(label, '+', '+');
            int a3 = NumberBetween(label, '+', '/');
            // OpenJTalk always ends with sil; a missing next label counts as a pause.
            int a2Next = n + 1 < labels.Count && !IsSilence(Phoneme(labels[n + 1]))
                ? NumberBetween(labels[n + 1], '+', '+')
                : -1;

            if (a3 == 1 && a2Next == 1) sb.Append(' ');          // accent phrase boundary
            else if (a1 == 0 && a2Next == a2 + 1) sb.Append('↓'); // falling after the nucleus
            else if (a2 == 1 && a2Next == 2) sb.Append('↑');      // rising after the first mora
        }
    }

    private static bool IsSilence(string phoneme) => phoneme is "sil" or "pau";

    /// <summary>The current phoneme: between the label's first '-' and the next '+' (p1^p2-p3+p4=p5/...).</summary>
    internal static string Phoneme(string label)
    {
        int minus = label.IndexOf('-');
        int plus = minus < 0 ? -1 : label.IndexOf('+', minus + 1);
        if (plus < 0) throw BadLabel(label);
        return label[(minus + 1)..plus];
    }

    /// <summary>A1 of "/A:a1+a2+a3/": the mora's distance from the accent nucleus (may be negative).</summary>
    private static int AccentA1(string label)
    {
        int at = label.IndexOf("/A:", StringComparison.Ordinal);
        if (at < 0) throw BadLabel(label);
        int i = at + 3;
        bool negative = i < label.Length && label[i] == '-';
        if (negative) i++;
        int value = ReadDigits(label, ref i, out bool any);
        if (!any || i >= label.Length || label[i] != '+') throw BadLabel(label);
        return negative ? -value : value;
    }

    /// <summary>
    /// The first number in the label written as <paramref name="open"/>digits<paramref name="close"/>:
    /// for ('+', '+') that is A2 (mora position in the accent phrase), for ('+', '/') A3 (position from its end).
    /// </summary>
    private static int NumberBetween(string label, char open, char close)
    {
        for (int at = label.IndexOf(open); at >= 0; at = label.IndexOf(open, at + 1))
        {
            int i = at + 1;
            int value = ReadDigits(label, ref i, out bool any);
            if (any && i < label.Length && label[i] == close) return value;
        }
        throw BadLabel(label);
    }

    private static int ReadDigits(string s, ref int i, out bool any)
    {
        int value = 0;
        any = false;
        while (i < s.Length && s[i] is >= '0' and <= '9')
        {
            value = checked(value * 10 + (s[i] - '0'));
            i++;
            any = true;
        }
        return value;
    }

    private static NativeDependencyException BadLabel(string label) =>
        new($"unexpected OpenJTalk full-context label '{label}'");
}
