using System.Text;
using VallE.Runtime.Text.Vallex;
using VallE.Runtime.Text.Vallex.Japanese;

namespace VallE.Tests.Text.Vallex;

/// <summary>
/// The shared transliteration table against Python <c>unidecode</c> 1.3.6 (Debian's python3-unidecode), a dozen
/// code points from each covered block, and what each caller makes of it.
/// </summary>
public class UnidecodeTests
{
    // ASCII, C1 controls, Latin-1 Supplement, Latin Extended-A
    [TestCase(0x41, "A")]
    [TestCase(0x20, " ")]
    [TestCase(0x85, "")]
    [TestCase(0xA0, " ")]
    [TestCase(0xA3, "PS")]
    [TestCase(0xA9, "(c)")]
    [TestCase(0xB0, "deg")]
    [TestCase(0xBD, " 1/2")]
    [TestCase(0xC6, "AE")]
    [TestCase(0xD7, "x")]
    [TestCase(0xDE, "Th")]
    [TestCase(0xDF, "ss")]
    [TestCase(0xE9, "e")]
    [TestCase(0xFF, "y")]
    [TestCase(0x132, "IJ")]
    [TestCase(0x138, "k")]
    [TestCase(0x141, "L")]
    [TestCase(0x149, "'n")]
    [TestCase(0x14A, "ng")]    // Ŋ: unidecode has the cases of ŋ/Ŋ swapped
    [TestCase(0x14B, "NG")]
    [TestCase(0x153, "oe")]
    [TestCase(0x17F, "s")]
    // General Punctuation
    [TestCase(0x2003, " ")]
    [TestCase(0x200B, " ")]
    [TestCase(0x200D, "")]
    [TestCase(0x2014, "--")]
    [TestCase(0x2016, "||")]
    [TestCase(0x2018, "'")]
    [TestCase(0x201C, "\"")]
    [TestCase(0x201E, ",,")]
    [TestCase(0x2022, "*")]
    [TestCase(0x2026, "...")]
    [TestCase(0x2028, "\n")]
    [TestCase(0x2030, "%0")]
    [TestCase(0x203C, "!!")]
    [TestCase(0x2049, "!?")]
    [TestCase(0x205F, " ")]
    [TestCase(0x206F, "")]
    // currency and the other single signs
    [TestCase(0x20A0, "ECU")]
    [TestCase(0x20A7, "Pts")]
    [TestCase(0x20A9, "W")]
    [TestCase(0x20AC, "EUR")]
    [TestCase(0x20B1, "P")]
    [TestCase(0x2116, "No. ")]
    [TestCase(0x2122, "(tm)")]
    [TestCase(0x2192, "-")]
    [TestCase(0x2212, "-")]
    [TestCase(0x2264, "<=")]
    [TestCase(0xFEFF, "")]
    // CJK Symbols and Punctuation
    [TestCase(0x3000, " ")]
    [TestCase(0x3001, ", ")]
    [TestCase(0x3002, ". ")]
    [TestCase(0x3004, "[JIS]")]
    [TestCase(0x3005, "\"")]
    [TestCase(0x300C, "[")]
    [TestCase(0x300D, "] ")]
    [TestCase(0x3012, "@")]
    [TestCase(0x301C, "~ ")]
    [TestCase(0x3021, "1")]
    [TestCase(0x3037, " // ")]
    [TestCase(0x303A, "+30+")]
    [TestCase(0x303F, "")]
    // Halfwidth and Fullwidth Forms
    [TestCase(0xFF00, "")]
    [TestCase(0xFF01, "!")]
    [TestCase(0xFF10, "0")]
    [TestCase(0xFF21, "A")]
    [TestCase(0xFF3C, "\\")]
    [TestCase(0xFF5A, "z")]
    [TestCase(0xFF5E, "~")]
    [TestCase(0xFF61, ".")]
    [TestCase(0xFF66, "wo")]
    [TestCase(0xFF70, "+")]
    [TestCase(0xFF76, "ka")]
    [TestCase(0xFF9D, "n")]
    [TestCase(0xFF9E, ":")]
    [TestCase(0xFFA1, "g")]
    [TestCase(0xFFC2, "a")]
    [TestCase(0xFFE0, "/C")]
    [TestCase(0xFFE5, "Y=")]
    [TestCase(0xFFE6, "W=")]
    [TestCase(0xFFEF, "")]
    public void MapsAsUnidecode(int codePoint, string expected) =>
        Assert.That(Unidecode.Map(codePoint), Is.EqualTo(expected));

    [TestCase(0x180)]    // Latin Extended-B
    [TestCase(0x3B1)]    // Greek
    [TestCase(0x416)]    // Cyrillic
    [TestCase(0x20B9)]   // rupee sign, past the covered currency signs
    [TestCase(0x3042)]   // hiragana
    [TestCase(0x4E2D)]   // Han
    [TestCase(0xAC00)]   // Hangul syllable
    [TestCase(0xFFFD)]
    [TestCase(0x1F600)]  // emoji
    public void OutsideTheTableIsNull(int codePoint) => Assert.That(Unidecode.Map(codePoint), Is.Null);

    [Test]
    public void FoldDropsWhatIsOutsideTheTable() =>
        Assert.That(Unidecode.Fold("½ café—€5「Ｈｉ」中😀"), Is.EqualTo(" 1/2 cafe--EUR5[Hi] "));

    [TestCase("、", ",")]
    [TestCase("½", "1/2")]
    [TestCase("№", "No.")]
    [TestCase(" ", "")]
    [TestCase("\u2028", "\n")]
    [TestCase("가", "")]
    [TestCase("Ж", "")]
    public void JapaneseMarksLoseTheirSpaces(string mark, string expected) =>
        Assert.That(JapaneseText.TransliterateMark(Rune.GetRuneAt(mark, 0)), Is.EqualTo(expected));
}
