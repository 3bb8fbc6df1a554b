using System.Text;

namespace VallE.Runtime.Text.Vallex.Mandarin;

/// <summary>
/// jieba 0.42.1's <c>lcut(text)</c> (accurate mode, HMM on): the text is split into blocks of
/// <c>[\u4E00-\u9FD5a-zA-Z0-9+#&amp;._%-]</c>; each block is cut along the most probable route through the
/// dictionary's word graph, and runs of single characters that do not form a dictionary word go to the HMM
/// (<see cref="JiebaHmm"/>). Outside the blocks, "\r\n" and each whitespace character are words, and so is every
/// other character (code point) on its own.
/// </summary>
internal sealed class JiebaSegmenter
{
    private readonly JiebaDictionary? _dictionary;
    private readonly JiebaHmm? _hmm;

    public JiebaSegmenter(JiebaDictionary dictionary, JiebaHmm hmm)
    {
        _dictionary = dictionary;
        _hmm = hmm;
    }

    private JiebaSegmenter() { }

    /// <summary>The segmenter over jieba's own data, which loads on the first cut.</summary>
    public static JiebaSegmenter Default { get; } = new();

    private JiebaDictionary Dictionary => _dictionary ?? JiebaDictionary.Default;

    private JiebaHmm Hmm => _hmm ?? JiebaHmm.Default;

    public List<string> Cut(string text)
    {
        var words = new List<string>();
        int i = 0;
        while (i < text.Length)
        {
            int start = i;
            if (IsBlockChar(text[i]))
            {
                while (i < text.Length && IsBlockChar(text[i])) i++;
                CutBlock(text.Substring(start, i - start), words);
                continue;
            }
            while (i < text.Length && !IsBlockChar(text[i])) i++;
            CutOther(text.AsSpan(start, i - start), words);
        }
        return words;
    }

    /// <summary>jieba's <c>re_han_default</c> class.</summary>
    internal static bool IsBlockChar(char c) =>
        c is >= '\u4E00' and <= '\u9FD5' || char.IsAsciiLetterOrDigit(c) || c is '+' or '#' or '&' or '.' or '_' or '%' or '-';

    private static void CutOther(ReadOnlySpan<char> run, List<string> words)
    {
        for (int i = 0; i < run.Length;)
        {
            int length = run[i] == '\r' && i + 1 < run.Length && run[i + 1] == '\n' ? 2
                : char.IsHighSurrogate(run[i]) && i + 1 < run.Length && char.IsLowSurrogate(run[i + 1]) ? 2 : 1;
            words.Add(run.Slice(i, length).ToString());
            i += length;
        }
    }

    /// <summary>jieba's <c>__cut_DAG</c> over one block.</summary>
    private void CutBlock(string block, List<string> words)
    {
        int[] route = Route(block);
        var buffer = new StringBuilder();
        int x = 0;
        while (x < block.Length)
        {
            int y = route[x] + 1;
            if (y - x == 1)
            {
                buffer.Append(block[x]);
            }
            else
            {
                FlushSingles(buffer, words);
                words.Add(block.Substring(x, y - x));
            }
            x = y;
        }
        FlushSingles(buffer, words);
    }

    /// <summary>
    /// A run of characters the route took one by one: one character is a word; a run that is itself a dictionary
    /// word (count &gt; 0) is split into characters; any other run goes to the HMM.
    /// </summary>
    private void FlushSingles(StringBuilder buffer, List<string> words)
    {
        if (buffer.Length == 0) return;
        string run = buffer.ToString();
        buffer.Clear();
        if (run.Length == 1) words.Add(run);
        else if (Dictionary.Count(run) == 0) Hmm.Cut(run, words);
        else foreach (char c in run) words.Add(c.ToString());
    }

    /// <summary>
    /// For each position, the end (inclusive) of the word the best route takes there: jieba's <c>calc</c> over its
    /// <c>get_DAG</c>, maximising the sum of log(count or 1) - log(total), ties going to the longer word.
    /// </summary>
    private int[] Route(string block)
    {
        int n = block.Length;
        var dictionary = Dictionary;
        double logTotal = dictionary.LogTotal;
        var probability = new double[n + 1];
        var end = new int[n];
        var ends = new List<int>();
        for (int k = n - 1; k >= 0; k--)
        {
            // The graph's edges from k: every i with block[k..i] a word of count > 0 (or k itself if none).
            ends.Clear();
            for (int i = k; i < n; i++)
            {
                var fragment = block.AsSpan(k, i + 1 - k);
                if (!dictionary.ContainsFragment(fragment)) break;
                if (dictionary.Count(fragment) > 0) ends.Add(i);
            }
            if (ends.Count == 0) ends.Add(k);

            double best = double.NegativeInfinity;
            int bestEnd = -1;
            foreach (int i in ends)
            {
                int count = dictionary.Count(block.AsSpan(k, i + 1 - k));
                double p = Math.Log(count == 0 ? 1 : count) - logTotal + probability[i + 1];
                if (bestEnd < 0 || p > best || (p == best && i > bestEnd))
                {
                    best = p;
                    bestEnd = i;
                }
            }
            probability[k] = best;
            end[k] = bestEnd;
        }
        return end;
    }
}
