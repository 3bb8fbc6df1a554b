using VallE.Runtime.Text.Ecker;

namespace VallE.Tests.Text.Ecker;

/// <summary>
/// Katakana → hiragana as pykakasi 2.3.0's <c>hira</c> field. Every expectation below is written out by hand (character
/// tables, not computed), from pykakasi's behaviour read off its source and data (halfkana.utf8); the ones marked
/// "pykakasi's own test" are expectations of pykakasi's test suite (tests/test_pykakasi_structured.py).
/// </summary>
public class KakasiKanaTests
{
    [Test]
    public void EveryFullWidthKatakanaBecomesItsHiragana()
    {
        const string Katakana =
            "ァアィイゥウェエォオカガキギクグケゲコゴサザシジスズセゼソゾタダチヂッツヅテデトドナニヌネノハバパヒビピフブプヘベペホボポ" +
            "マミムメモャヤュユョヨラリルレロヮワヰヱヲンヴヵヶ";
        const string Hiragana =
            "ぁあぃいぅうぇえぉおかがきぎくぐけげこごさざしじすずせぜそぞただちぢっつづてでとどなにぬねのはばぱひびぴふぶぷへべぺほぼぽ" +
            "まみむめもゃやゅゆょよらりるれろゎわゐゑをんゔゕゖ";
        Assert.That(Katakana.Length, Is.EqualTo(0x30F6 - 0x30A1 + 1), "U+30A1..U+30F6, all of them");
        for (int i = 0; i < Katakana.Length; i++)
            Assert.That(KakasiKana.ToHiragana(Katakana[i].ToString()), Is.EqualTo(Hiragana[i].ToString()), $"U+{(int)Katakana[i]:X4}");
        Assert.That(KakasiKana.ToHiragana(Katakana), Is.EqualTo(Hiragana));
    }

    [Test]
    public void VaRowMiddleDotAndLongVowelMarkStay()
    {
        Assert.That(KakasiKana.ToHiragana("ヷヸヹヺ・ー"), Is.EqualTo("ヷヸヹヺ・ー"));
        Assert.That(KakasiKana.ToHiragana("ラーメン"), Is.EqualTo("らーめん"));
        Assert.That(KakasiKana.ToHiragana("ヴァイオリン"), Is.EqualTo("ゔぁいおりん"));
        Assert.That(KakasiKana.ToHiragana("ヽヾヿ゠"), Is.EqualTo("ヽヾヿ゠"), "outside pykakasi's katakana");
    }

    [Test]
    public void EveryHalfWidthKatakana()
    {
        const string Half = "ｦｧｨｩｪｫｬｭｮｯｰｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝﾞ";
        const string Hira = "をぁぃぅぇぉゃゅょっ゜あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわん゛";
        Assert.That(Half.Length, Is.EqualTo(0xFF9E - 0xFF66 + 1), "U+FF66..U+FF9E, all of them");
        for (int i = 0; i < Half.Length; i++)
            Assert.That(KakasiKana.ToHiragana(Half[i].ToString()), Is.EqualTo(Hira[i].ToString()), $"U+{(int)Half[i]:X4}");
        // ｰ → full-width ー → shifted like a katakana letter → ゜: pykakasi's output, kept as upstream sees it.
        Assert.That(KakasiKana.ToHiragana("ｰ"), Is.EqualTo("゜"));
    }

    [Test]
    public void HalfWidthVoicedPairs()
    {
        Assert.That(KakasiKana.ToHiragana("ｶﾞｷﾞｸﾞｹﾞｺﾞｻﾞｼﾞｽﾞｾﾞｿﾞﾀﾞﾁﾞﾂﾞﾃﾞﾄﾞﾊﾞﾋﾞﾌﾞﾍﾞﾎﾞｳﾞ"), Is.EqualTo("がぎぐげござじずぜぞだぢづでどばびぶべぼゔ"));
        Assert.That(KakasiKana.ToHiragana("ｱﾞﾝﾞ"), Is.EqualTo("あ゛ん゛"), "no voiced form: the mark stands alone");
        Assert.That(KakasiKana.ToHiragana("ｿｳｿﾞｸﾆﾝ"), Is.EqualTo("そうぞくにん"), "pykakasi's own test (issue 105)");
    }

    [Test]
    public void HalfWidthKanaEndingA32CharacterWindowSwallowsTheNextCharacter()
    {
        string a30 = new('ｱ', 30), a31 = new('ｱ', 31);
        Assert.That(KakasiKana.ToHiragana(a30 + "ｶﾞ"), Is.EqualTo(new string('あ', 30) + "が"));
        // pykakasi 2.3.0 itself (pykakasi-hira.json): ｶ ends the window, counts as two, and ﾞ is lost.
        Assert.That(KakasiKana.ToHiragana(a31 + "ｶﾞ"), Is.EqualTo(new string('あ', 31) + "か"));
        Assert.That(KakasiKana.ToHiragana(a31 + "ｶアイ"), Is.EqualTo(new string('あ', 31) + "かい"));
        Assert.That(KakasiKana.ToHiragana(new string('ア', 31) + "ｶアイ"), Is.EqualTo(new string('あ', 31) + "かい"));
        Assert.That(KakasiKana.ToHiragana(new string('ア', 32) + "ｶア"), Is.EqualTo(new string('あ', 32) + "かあ"), "not at a window's end");
        Assert.That(KakasiKana.ToHiragana("ｶ"), Is.EqualTo("か"));
    }

    [Test]
    public void SmallKanaExtensionAndPassThrough()
    {
        Assert.That(KakasiKana.ToHiragana("\U0001B164\U0001B165\U0001B166\U0001B167"), Is.EqualTo("\U0001B150\U0001B151\U0001B152ん"));
        Assert.That(KakasiKana.ToHiragana("ひらがな abc 漢字、。"), Is.EqualTo("ひらがな abc 漢字、。"));
        Assert.That(KakasiKana.ToHiragana(""), Is.EqualTo(""));
    }
}
