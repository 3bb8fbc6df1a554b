using System.Text;
using System.Text.RegularExpressions;
using VallE.Runtime.Text;

namespace VallE.Tests.Text;

/// <summary>Python's \w, \s, strip/split and code-point order, where .NET's built-ins differ.</summary>
public class PythonTextTests
{
    // Characters on which Python's and .NET's \w disagree; the Python answers are CPython 3.11's.
    [TestCase(0x0303, false, TestName = "CombiningTilde_Mn_NotWordInPython")]
    [TestCase(0x0301, false, TestName = "CombiningAcute_Mn_NotWordInPython")]
    [TestCase(0x203F, false, TestName = "Undertie_Pc_NotWordInPython")]
    [TestCase(0x00B2, true, TestName = "SuperscriptTwo_No_WordInPython")]
    [TestCase(0x00BD, true, TestName = "OneHalf_No_WordInPython")]
    [TestCase(0x216B, true, TestName = "RomanTwelve_Nl_WordInPython")]
    public void WordClassDiffersFromDotNetWhereItMust(int codePoint, bool pythonWord)
    {
        var rune = new Rune(codePoint);
        bool dotnetWord = Regex.IsMatch(rune.ToString(), @"^\w$");
        Assert.That(PythonText.IsWord(rune), Is.EqualTo(pythonWord));
        Assert.That(dotnetWord, Is.Not.EqualTo(pythonWord), "this character is here because .NET disagrees with Python");
    }

    [TestCase("ː", true)]   // U+02D0 modifier letter (Lm): a word character, so "iː" stays one token
    [TestCase("ʊ", true)]
    [TestCase("ᵻ", true)]
    [TestCase("_", true)]
    [TestCase("9", true)]
    [TestCase("|", false)]
    [TestCase(",", false)]
    [TestCase("—", false)]
    [TestCase("😀", false)]
    [TestCase("𝐀", true)]   // supplementary-plane letter
    public void WordClassAgreesWithPythonOnPhonemeCharacters(string s, bool expected) =>
        Assert.That(PythonText.IsWord(Rune.GetRuneAt(s, 0)), Is.EqualTo(expected));

    [Test]
    public void SpaceClassIncludesPythonsExtraSeparators()
    {
        foreach (char c in "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000")
            Assert.That(PythonText.IsSpace(c), Is.True, $"U+{(int)c:X4}");
        foreach (char c in "a_|\u200b\ufeff\0")
            Assert.That(PythonText.IsSpace(c), Is.False, $"U+{(int)c:X4}");
        Assert.That(Regex.IsMatch("\x1c", @"\s"), Is.False, ".NET's \\s lacks U+001C; Python's has it");
    }

    [Test]
    public void FindallMatchesPythonsWordsAndSymbols()
    {
        var tokens = new List<string>();
        // re.findall(r"\w+|[^\w\s]", "b|ɔ̃|ʒ|u|ʁ,") == ['b', '|', 'ɔ', '̃', '|', 'ʒ', '|', 'u', '|', 'ʁ', ',']
        PythonText.FindWordsAndSymbols("b|ɔ̃|ʒ|u|ʁ,", tokens);
        Assert.That(tokens, Is.EqualTo(new[] { "b", "|", "ɔ", "\u0303", "|", "ʒ", "|", "u", "|", "ʁ", "," }));

        tokens.Clear();
        PythonText.FindWordsAndSymbols("iː:f|oːɹ x²\t😀", tokens);
        Assert.That(tokens, Is.EqualTo(new[] { "iː", ":", "f", "|", "oːɹ", "x²", "😀" }));
    }

    [Test]
    public void StripAndSplitUsePythonWhitespace()
    {
        Assert.That(PythonText.Strip("\x1c\u00a0 a b \u3000\n"), Is.EqualTo("a b"));
        Assert.That(PythonText.SplitWhitespace("  <eps>\t0 \x1f"), Is.EqualTo(new[] { "<eps>", "0" }));
        Assert.That(PythonText.SplitWhitespace(" \t "), Is.Empty);
    }

    [Test]
    public void SortsByCodePointNotUtf16Unit()
    {
        // U+FF01 (BMP, above the surrogate range) sorts BEFORE U+1D400 in Python; UTF-16 ordinal says after.
        string fullwidth = "\uFF01", math = "𝐀";
        Assert.That(string.CompareOrdinal(fullwidth, math), Is.GreaterThan(0));
        Assert.That(PythonText.CompareByCodePoint(fullwidth, math), Is.LessThan(0));

        var list = new List<string> { "b", "𝐀", "\uFF01", "a", "ab", "", "<eps>", "_" };
        list.Sort(PythonText.CodePointComparer);
        // sorted(['b', '𝐀', '！', 'a', 'ab', '', '<eps>', '_'])
        Assert.That(list, Is.EqualTo(new[] { "", "<eps>", "_", "a", "ab", "b", "\uFF01", "𝐀" }));
    }
}
