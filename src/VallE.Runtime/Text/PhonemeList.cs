namespace VallE.Runtime.Text;

/// <summary>
/// lifeiteng's <c>TextTokenizer.to_list</c>: cuts phonemizer's output ("h|ə|l|oʊ,_w|ɜː|l|d") into the tokens
/// the model reads: each word is split with <c>re.findall(r"\w+|[^\w\s]", word)</c> (Python's classes, see
/// <see cref="PythonText"/>), phone separators are dropped, and a <c>_</c> token goes between words.
/// </summary>
public static class PhonemeList
{
    public const string WordSeparator = "_";
    public const string PhoneSeparator = "|";

    /// <summary>
    /// The token list. Upstream asserts that no character was lost, which fails when the phonemized text holds
    /// whitespace other than a space: that happens only when such whitespace (a newline, a tab, a no-break
    /// space) touches punctuation, as in "Hello.\nWorld", because phonemizer turns only spaces inside
    /// punctuation runs into <c>_</c>. Where upstream would stop with an AssertionError, this reads each such
    /// whitespace character as a space (a <c>_</c>), so "Hello.\nWorld" gives the tokens of "Hello. World";
    /// every text upstream accepts gives upstream's tokens.
    /// </summary>
    public static List<string> Split(string phonemized)
    {
        if (PythonText.ContainsSpace(phonemized))
        {
            var chars = phonemized.ToCharArray();
            for (int i = 0; i < chars.Length; i++) if (PythonText.IsSpace(chars[i])) chars[i] = '_';
            phonemized = new string(chars);
        }

        var tokens = new List<string>();
        var pieces = new List<string>();
        string[] words = phonemized.Split('_');
        for (int w = 0; w < words.Length; w++)
        {
            if (w > 0) tokens.Add(WordSeparator);
            pieces.Clear();
            PythonText.FindWordsAndSymbols(words[w], pieces);
            foreach (string p in pieces) if (p != PhoneSeparator) tokens.Add(p);
        }
        return tokens;
    }
}
