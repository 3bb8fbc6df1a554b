using System.Text;
using System.Text.RegularExpressions;

namespace VallE.Runtime.Text.Vallex.English;

/// <summary>
/// English for the VALL-E X front end: upstream's <c>english_to_ipa2</c> — ASCII transliteration, lower case,
/// abbreviations, numbers in words, <c>eng_to_ipa</c> over CMUdict, whitespace collapsed, then the dark-l mark
/// (<c>l</c> before a consonant cluster ending the word becomes <c>ɫ</c>), <c>r</c>→<c>ɹ</c>,
/// <c>ʤ</c>→<c>dʒ</c>, <c>ʧ</c>→<c>tʃ</c>, <c>...</c>→<c>…</c>.
/// </summary>
internal sealed class EnglishG2P : IVallexG2P
{
    private static readonly Regex DarkL = new(@"l([^aeiouæɑɔəɛɪʊ ]*(?: |\z))", RegexOptions.CultureInvariant);

    public string Language => "en";

    public string ToIpa(string segmentText)
    {
        ArgumentNullException.ThrowIfNull(segmentText);
        string text = Unidecode.Fold(segmentText).ToLowerInvariant();
        text = EnglishNormalizer.ExpandAbbreviations(text);
        text = EnglishNormalizer.NormalizeNumbers(text);
        string phonemes = CollapseWhitespace(EngToIpa.Convert(text));
        phonemes = DarkL.Replace(phonemes, m => "ɫ" + m.Groups[1].Value);
        return phonemes.Replace("r", "ɹ", StringComparison.Ordinal)
            .Replace("ʤ", "dʒ", StringComparison.Ordinal)
            .Replace("ʧ", "tʃ", StringComparison.Ordinal)
            .Replace("...", "…", StringComparison.Ordinal);
    }

    /// <summary><c>re.sub(r'\s+', ' ', text)</c> with Python's whitespace.</summary>
    internal static string CollapseWhitespace(string text)
    {
        var sb = new StringBuilder(text.Length);
        bool inSpace = false;
        foreach (char c in text)
        {
            if (PythonText.IsSpace(c))
            {
                if (!inSpace) sb.Append(' ');
                inSpace = true;
            }
            else
            {
                sb.Append(c);
                inSpace = false;
            }
        }
        return sb.ToString();
    }
}
