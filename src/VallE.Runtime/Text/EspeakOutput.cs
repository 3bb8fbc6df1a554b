using System.Text;

namespace VallE.Runtime.Text;

/// <summary>
/// phonemizer's <c>EspeakBackend._postprocess_line</c> for lifeiteng's settings (no stress, no tie,
/// language-switch flags kept, <c>strip=True</c>, word separator <c>_</c>, phone separator <c>|</c>): turns
/// espeak's "phonemes joined by '_', words by ' '" into "phones joined by '|', words by '_'".
/// </summary>
public static class EspeakOutput
{
    public static string Postprocess(string line, char wordSeparator = '_', char phoneSeparator = '|')
        => Postprocess(line, wordSeparator.ToString(), phoneSeparator.ToString(), withStress: false);

    /// <summary>
    /// The same with any separators and, with <paramref name="withStress"/>, the stress marks kept (phonemizer's
    /// <c>with_stress=True</c>; e-c-k-e-r/vall-e uses word <c>" "</c>, phone <c>""</c>, stress kept).
    /// </summary>
    public static string Postprocess(string line, string wordSeparator, string phoneSeparator, bool withStress)
    {
        // espeak can return several lines for one utterance: merge them. Python's replace('  ', ' ') is one
        // left-to-right pass, as is .NET's.
        line = PythonText.Strip(line).Replace('\n', ' ').Replace("  ", " ");
        // espeak-ng issue #694: stray phoneme separators at word ends. "_+" -> "_", then "_ " -> " ".
        line = CollapseRuns(line, '_').Replace("_ ", " ");
        // language_switch = "keep-flags": "(fr)" style flags stay in the text.
        if (line.Length == 0) return "";

        var output = new StringBuilder(line.Length);
        string[] words = line.Split(' ');
        for (int i = 0; i < words.Length; i++)
        {
            if (i > 0) output.Append(wordSeparator);
            foreach (char c in PythonText.Strip(words[i]))
            {
                if (!withStress && IsStressMark(c)) continue;              // with_stress = False
                if (c == '_') output.Append(phoneSeparator);               // tie = False
                else output.Append(c);
            }
        }
        return output.ToString();
    }

    /// <summary>phonemizer's stress pattern <c>[ˈˌ'-]+</c>: primary and secondary stress, apostrophe, hyphen.</summary>
    public static bool IsStressMark(char c) => c is 'ˈ' or 'ˌ' or '\'' or '-';

    private static string CollapseRuns(string s, char c)
    {
        if (!s.Contains(string.Concat(c, c), StringComparison.Ordinal)) return s;
        var sb = new StringBuilder(s.Length);
        foreach (char ch in s)
            if (ch != c || sb.Length == 0 || sb[^1] != c) sb.Append(ch);
        return sb.ToString();
    }
}
