namespace VallE.Runtime.Text.Vallex.Mandarin;

/// <summary>
/// jieba's <c>finalseg</c>: words for a run of characters that the dictionary does not know, found by a 4-state
/// HMM (B begin, M middle, E end, S single) decoded with Viterbi over its log-probabilities. Arithmetic, order of
/// additions and tie-breaking follow jieba 0.42.1 so the same doubles and the same path come out.
/// </summary>
internal sealed class JiebaHmm
{
    // Python's max over (probability, state letter) tuples breaks ties by the larger letter: B < E < M < S.
    private const int B = 0, M = 1, E = 2, S = 3;
    private const string StateLetters = "BMES";
    private const double MinFloat = -3.14e100;

    // The states each state may follow (jieba's PrevStatus), in jieba's order.
    private static readonly int[][] s_previous = [[E, S], [M, B], [B, M], [S, E]];

    private static readonly Lazy<JiebaHmm> s_default = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly double[] _start = new double[4];
    private readonly double[,] _trans = new double[4, 4];
    private readonly Dictionary<char, double>[] _emit = [new(), new(), new(), new()];

    private JiebaHmm()
    {
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) _trans[i, j] = MinFloat;
    }

    public static JiebaHmm Default => s_default.Value;

    /// <summary>jieba's <c>finalseg.cut</c>: Han runs through the HMM, other runs split into Latin/digit pieces.</summary>
    public void Cut(string text, List<string> words)
    {
        int i = 0;
        while (i < text.Length)
        {
            int start = i;
            if (IsHmmHan(text[i]))
            {
                while (i < text.Length && IsHmmHan(text[i])) i++;
                CutHan(text.Substring(start, i - start), words);
            }
            else
            {
                while (i < text.Length && !IsHmmHan(text[i])) i++;
                SplitOther(text.AsSpan(start, i - start), words);
            }
        }
    }

    /// <summary>finalseg's Han class: U+4E00..U+9FD5.</summary>
    private static bool IsHmmHan(char c) => c is >= '\u4E00' and <= '\u9FD5';

    /// <summary>
    /// The pieces of a non-Han run around each <c>[a-zA-Z0-9]+(\.\d+)?%?</c> match (matches kept, empty pieces
    /// dropped). The run comes from a jieba block, so its digits are ASCII.
    /// </summary>
    private static void SplitOther(ReadOnlySpan<char> run, List<string> words)
    {
        int i = 0, pending = 0;
        while (i < run.Length)
        {
            if (!char.IsAsciiLetterOrDigit(run[i])) { i++; continue; }
            int start = i;
            while (i < run.Length && char.IsAsciiLetterOrDigit(run[i])) i++;
            if (i + 1 < run.Length && run[i] == '.' && char.IsAsciiDigit(run[i + 1]))
            {
                i++;
                while (i < run.Length && char.IsAsciiDigit(run[i])) i++;
            }
            if (i < run.Length && run[i] == '%') i++;
            if (start > pending) words.Add(run[pending..start].ToString());
            words.Add(run[start..i].ToString());
            pending = i;
        }
        if (run.Length > pending) words.Add(run[pending..].ToString());
    }

    private void CutHan(string text, List<string> words)
    {
        int[] states = Viterbi(text);
        int begin = 0, next = 0;
        for (int i = 0; i < text.Length; i++)
        {
            switch (states[i])
            {
                case B: begin = i; break;
                case E: words.Add(text.Substring(begin, i + 1 - begin)); next = i + 1; break;
                case S: words.Add(text.Substring(i, 1)); next = i + 1; break;
            }
        }
        if (next < text.Length) words.Add(text.Substring(next));
    }

    private double Emit(int state, char c) => _emit[state].TryGetValue(c, out double p) ? p : MinFloat;

    /// <summary>The most probable state of each character.</summary>
    private int[] Viterbi(string obs)
    {
        int n = obs.Length;
        var back = new int[n, 4];
        var v = new double[4];
        var next = new double[4];
        for (int y = 0; y < 4; y++) v[y] = _start[y] + Emit(y, obs[0]);
        for (int t = 1; t < n; t++)
        {
            for (int y = 0; y < 4; y++)
            {
                double em = Emit(y, obs[t]);
                double best = double.NaN;
                int bestState = -1;
                foreach (int y0 in s_previous[y])
                {
                    double p = v[y0] + _trans[y0, y] + em;
                    if (bestState < 0 || p > best || (p == best && StateLetters[y0] > StateLetters[bestState]))
                    {
                        best = p;
                        bestState = y0;
                    }
                }
                next[y] = best;
                back[t, y] = bestState;
            }
            (v, next) = (next, v);
        }
        // The last character ends a word: E or S, the larger tuple (probability, letter).
        int last = v[S] > v[E] || v[S] == v[E] ? S : E;
        var path = new int[n];
        path[n - 1] = last;
        for (int t = n - 1; t > 0; t--) path[t - 1] = back[t, path[t]];
        return path;
    }

    private static int StateIndex(ReadOnlySpan<char> letter, string source) =>
        letter.Length == 1 && StateLetters.Contains(letter[0])
            ? StateLetters.IndexOf(letter[0]) : throw new InvalidDataException($"{source}: bad state '{letter}'");

    private static JiebaHmm Load()
    {
        const string source = MandarinData.JiebaHmm;
        var hmm = new JiebaHmm();
        Span<Range> fields = stackalloc Range[5];
        string text = MandarinData.ReadText(source);
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (line.IsEmpty) continue;
            int count = line.Split(fields, ' ');
            var kind = line[fields[0]];
            if (kind.SequenceEqual("start") && count == 3)
                hmm._start[StateIndex(line[fields[1]], source)] = MandarinData.ParseDouble(line[fields[2]], source);
            else if (kind.SequenceEqual("trans") && count == 4)
                hmm._trans[StateIndex(line[fields[1]], source), StateIndex(line[fields[2]], source)] =
                    MandarinData.ParseDouble(line[fields[3]], source);
            else if (kind.SequenceEqual("emit") && count == 4 && line[fields[2]].Length == 1)
                hmm._emit[StateIndex(line[fields[1]], source)][line[fields[2]][0]] = MandarinData.ParseDouble(line[fields[3]], source);
            else
                throw new InvalidDataException($"{source}: bad line '{line}'");
        }
        return hmm;
    }
}
