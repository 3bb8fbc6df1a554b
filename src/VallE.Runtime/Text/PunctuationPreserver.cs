using System.Text;

namespace VallE.Runtime.Text;

/// <summary>
/// phonemizer's <c>Punctuation.preserve</c> / <c>restore</c> for one utterance with its default marks
/// (<c>;:,.!?¡¿—…"«»“”(){}[]</c>): espeak would drop punctuation, so the text is cut at every run of marks,
/// the pieces are phonemized separately, and the marks are put back between the phonemized pieces with their
/// spaces turned into the word separator <c>_</c> (lifeiteng phonemizes with <c>strip=True</c>).
/// </summary>
public static class PunctuationPreserver
{
    /// <summary>phonemizer's <c>Punctuation.default_marks()</c>.</summary>
    public const string DefaultMarks = ";:,.!?¡¿—…\"«»“”(){}[]";

    public enum Position { Begin, Inside, End, Alone }

    public readonly record struct Mark(string Text, Position Position);

    public static bool IsMark(char c) => DefaultMarks.Contains(c);

    /// <summary>
    /// Splits <paramref name="line"/> at its punctuation runs. A run is what phonemizer's regex
    /// <c>(\s*[marks]+\s*)+</c> matches: a maximal stretch of whitespace and marks holding at least one mark
    /// (the regex, searched left to right, always matches exactly such stretches). Empty pieces are dropped,
    /// as phonemizer drops them.
    /// </summary>
    public static (List<string> Chunks, List<Mark> Marks) Preserve(string line)
    {
        var runs = FindRuns(line);
        var chunks = new List<string>();
        var marks = new List<Mark>();
        if (runs.Count == 0)
        {
            if (line.Length > 0) chunks.Add(line);
            return (chunks, marks);
        }
        if (runs.Count == 1 && runs[0].Length == line.Length)
        {
            marks.Add(new Mark(line, Position.Alone));
            return (chunks, marks);
        }

        for (int k = 0; k < runs.Count; k++)
        {
            string text = line.Substring(runs[k].Start, runs[k].Length);
            // phonemizer tests the first run for "line starts with it" and the last for "line ends with it".
            var position = k == 0 && line.StartsWith(text, StringComparison.Ordinal) ? Position.Begin
                : k == runs.Count - 1 && line.EndsWith(text, StringComparison.Ordinal) ? Position.End
                : Position.Inside;
            marks.Add(new Mark(text, position));
        }

        // Cut at the first occurrence of each mark's text in what is left, as phonemizer's str.split does.
        int rest = 0;
        foreach (var mark in marks)
        {
            int at = line.IndexOf(mark.Text, rest, StringComparison.Ordinal);
            if (at > rest) chunks.Add(line[rest..at]);
            rest = at + mark.Text.Length;
        }
        if (rest < line.Length) chunks.Add(line[rest..]);
        return (chunks, marks);
    }

    /// <summary>
    /// Puts the marks back between the phonemized chunks (phonemizer's <c>restore</c> with <c>strip=True</c>,
    /// one input line). Returns phonemizer's output list: one string, or none when there was nothing at all.
    /// </summary>
    public static List<string> Restore(IReadOnlyList<string> phonemized, IReadOnlyList<Mark> marks, char wordSeparator = '_')
    {
        var output = new List<string>();
        // "head" is phonemizer's text[0]: the chunk marks attach to; Inside marks glue it to the next chunk.
        var head = new StringBuilder();
        bool headLoaded = false;
        int next = 0, m = 0, pos = 0;

        bool HasText() => headLoaded || next < phonemized.Count;
        void LoadHead()
        {
            if (headLoaded) return;
            head.Clear().Append(phonemized[next++]);
            headLoaded = true;
        }

        while (HasText() || m < marks.Count)
        {
            if (m == marks.Count)
            {
                if (headLoaded) { output.Add(head.ToString()); headLoaded = false; }
                while (next < phonemized.Count) output.Add(phonemized[next++]);
            }
            else if (!HasText())
            {
                var all = new StringBuilder();
                for (; m < marks.Count; m++) all.Append(marks[m].Text);
                output.Add(SpacesTo(all.ToString(), wordSeparator));
            }
            else if (pos == 0) // every mark of a single line has index 0
            {
                LoadHead();
                var mark = marks[m++];
                string text = SpacesTo(mark.Text, wordSeparator);
                if (head.Length > 0 && head[^1] == wordSeparator) head.Length--;
                switch (mark.Position)
                {
                    case Position.Begin:
                        head.Insert(0, text);
                        break;
                    case Position.End:
                        output.Add(head.Append(text).ToString());
                        headLoaded = false;
                        pos++;
                        break;
                    case Position.Alone:
                        output.Add(text);
                        pos++;
                        break;
                    default: // Inside: glue head, mark and the next chunk (or just append the mark when none is left)
                        head.Append(text);
                        if (next < phonemized.Count) head.Append(phonemized[next++]);
                        break;
                }
            }
            else
            {
                LoadHead();
                output.Add(head.ToString());
                headLoaded = false;
                pos++;
            }
        }
        return output;
    }

    /// <summary>Python's <c>re.sub(r'\s', sep, mark)</c>: every whitespace character becomes the separator.</summary>
    private static string SpacesTo(string mark, char separator)
    {
        var sb = new StringBuilder(mark.Length);
        foreach (char c in mark) sb.Append(PythonText.IsSpace(c) ? separator : c);
        return sb.ToString();
    }

    /// <summary>Maximal stretches of whitespace and marks that hold at least one mark, left to right.</summary>
    internal static List<(int Start, int Length)> FindRuns(string line)
    {
        var runs = new List<(int, int)>();
        int i = 0;
        while (i < line.Length)
        {
            if (!IsMark(line[i]) && !PythonText.IsSpace(line[i])) { i++; continue; }
            int start = i;
            bool hasMark = false;
            while (i < line.Length && (IsMark(line[i]) || PythonText.IsSpace(line[i])))
            {
                hasMark |= IsMark(line[i]);
                i++;
            }
            if (hasMark) runs.Add((start, i - start));
        }
        return runs;
    }
}
