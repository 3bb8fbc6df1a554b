using System.Text;

namespace VallE.Runtime.Text.Vallex.Japanese;

/// <summary>
/// Romaji with accents → the "IPA2" spelling VALL-E X's <c>cje_cleaners</c> uses for Japanese
/// (<c>japanese_to_ipa2</c>): "..." → "…"; the sokuon Q and the moraic N take the place of articulation of the
/// consonant that follows (accent marks in between are skipped); then a fixed sequence of substitutions, each over
/// the whole string in turn.
/// </summary>
internal static class JapaneseIpa
{
    /// <summary>Applied in this order, each to the result of the one before.</summary>
    private static readonly (string From, string To)[] Substitutions =
    [
        ("u", "ɯ"), ("ʧ", "tʃ"), ("j", "dʑ"), ("y", "j"), ("ni", "n^i"), ("nj", "n^"),
        ("hi", "çi"), ("hj", "ç"), ("f", "ɸ"), ("I", "i*"), ("U", "ɯ*"), ("r", "ɾ"),
    ];

    public static string FromRomaji(string romaji)
    {
        string text = romaji.Replace("...", "…", StringComparison.Ordinal);
        text = Assimilate(text, 'Q', Sokuon);
        text = Assimilate(text, 'N', Hatsuon);
        foreach (var (from, to) in Substitutions) text = text.Replace(from, to, StringComparison.Ordinal);
        return text;
    }

    /// <summary>Q before k/g, t/d/j/ʧ, s/ʃ, p/b; null leaves the Q.</summary>
    private static string? Sokuon(char next) => next switch
    {
        'k' or 'g' => "k#",
        't' or 'd' or 'j' or 'ʧ' => "t#",
        's' or 'ʃ' => "s",
        'p' or 'b' => "p#",
        _ => null,
    };

    /// <summary>N before p/b/m, ʧ/ʥ/j, t/d/n, k/g; null leaves the N.</summary>
    private static string? Hatsuon(char next) => next switch
    {
        'p' or 'b' or 'm' => "m",
        'ʧ' or 'ʥ' or 'j' => "n^",
        't' or 'd' or 'n' => "n",
        'k' or 'g' => "ŋ",
        _ => null,
    };

    /// <summary>Replaces each <paramref name="mora"/> by what the first character after it that is not an accent mark asks for.</summary>
    private static string Assimilate(string text, char mora, Func<char, string?> rule)
    {
        if (text.IndexOf(mora) < 0) return text;
        var sb = new StringBuilder(text.Length + 8);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c != mora) { sb.Append(c); continue; }
            int j = i + 1;
            while (j < text.Length && text[j] is '↑' or '↓') j++;
            string? replacement = j < text.Length ? rule(text[j]) : null;
            if (replacement is null) sb.Append(c);
            else sb.Append(replacement);
        }
        return sb.ToString();
    }
}
