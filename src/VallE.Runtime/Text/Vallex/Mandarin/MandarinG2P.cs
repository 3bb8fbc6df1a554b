using System.Text;

namespace VallE.Runtime.Text.Vallex.Mandarin;

/// <summary>
/// The Mandarin part of VALL-E X's text front end: what <c>chinese_to_ipa</c> (Plachtaa/VALL-E-X
/// <c>utils/g2p/mandarin.py</c>) gives for the text of a <c>[ZH]..[ZH]</c> segment. Steps:
/// <list type="number">
/// <item>numbers read out in Chinese (<see cref="ChineseNumbers"/>, cn2an 0.5.23);</item>
/// <item>、；： become ，; the text is cut into words by jieba 0.42.1 (<see cref="JiebaSegmenter"/>); a word with a
/// CJK character (U+4E00..U+9FFF) becomes the zhuyin of its characters (<see cref="LazyPinyin"/>, pypinyin 0.55.0),
/// tone 1 marked ˉ, separated from what came before by a space; any other word is kept as it is, with no space;</item>
/// <item>Latin letters spelled in zhuyin, then zhuyin to IPA (<see cref="BopomofoToIpa"/>).</item>
/// </list>
/// The data (about 2.6 MB of gzip text in the assembly) is parsed on first use.
/// </summary>
internal sealed class MandarinG2P : IVallexG2P
{
    private readonly JiebaSegmenter _segmenter;
    private readonly LazyPinyin _pinyin;

    public MandarinG2P() : this(JiebaSegmenter.Default, LazyPinyin.Default) { }

    internal MandarinG2P(JiebaSegmenter segmenter, LazyPinyin pinyin)
    {
        _segmenter = segmenter;
        _pinyin = pinyin;
    }

    public string Language => "zh";

    public string ToIpa(string segmentText)
    {
        ArgumentNullException.ThrowIfNull(segmentText);
        string text = ChineseNumbers.Replace(segmentText);
        text = ToBopomofo(text);
        text = BopomofoToIpa.SpellLatin(text);
        return BopomofoToIpa.ToIpa(text);
    }

    /// <summary>mandarin.py's <c>chinese_to_bopomofo</c>.</summary>
    internal string ToBopomofo(string text)
    {
        text = text.Replace('、', '，').Replace('；', '，').Replace('：', '，');
        var sb = new StringBuilder(text.Length * 4);
        foreach (string word in _segmenter.Cut(text))
        {
            if (!HasCjk(word))
            {
                sb.Append(word);
                continue;
            }
            if (sb.Length > 0) sb.Append(' ');
            foreach (string item in _pinyin.ToBopomofo(word))
            {
                sb.Append(item);
                // A syllable that ends in a zhuyin letter has tone 1: mark it.
                if (item.Length > 0 && item[^1] is >= '\u3105' and <= '\u3129') sb.Append('ˉ');
            }
        }
        return sb.ToString();
    }

    private static bool HasCjk(string word)
    {
        foreach (char c in word)
            if (c is >= '\u4E00' and <= '\u9FFF') return true;
        return false;
    }
}
