using VallE.Runtime.Text.Ecker;
using VallE.Runtime.Text.Vallex.Japanese;

namespace VallE.Tests.Text.Ecker;

/// <summary>
/// pykakasi's conversion (<c>"".join(r["hira"] for r in kakasi().convert(text))</c>, upstream's
/// <c>coerce_to_hiragana</c>) with kanji readings from a stand-in analyser, so no OpenJTalk is needed. Expectations
/// are hand-derived from pykakasi 2.3.0's behaviour; "pykakasi's own test" marks those its test suite asserts.
/// </summary>
public class KakasiHiraganaTests
{
    private static string Convert(string text, params (string Surface, string? Reading)[] words)
    {
        var readings = KanjiReadings.Find(text, line => Words(line, words));
        return KakasiHiragana.Convert(text, readings);
    }

    // The stand-in analyser: the given words, in the order they occur in the line, separators kept.
    private static IReadOnlyList<OpenJTalkWord> Words(string line, (string Surface, string? Reading)[] words)
    {
        var result = new List<OpenJTalkWord>();
        int at = 0;
        while (at < line.Length)
        {
            if (line[at] == '、') { result.Add(new OpenJTalkWord("、", "、")); at++; continue; }
            var w = words.FirstOrDefault(w => string.CompareOrdinal(line, at, w.Surface, 0, w.Surface.Length) == 0 && w.Surface.Length > 0);
            if (w.Surface is null) { result.Add(new OpenJTalkWord(line[at].ToString(), null)); at++; continue; }
            result.Add(new OpenJTalkWord(w.Surface, w.Reading));
            at += w.Surface.Length;
        }
        return result;
    }

    [Test]
    public void KanaAsciiAndSymbolsKeepTheirPlace()
    {
        Assert.That(Convert("カタカナとひらがな"), Is.EqualTo("かたかなとひらがな"));
        Assert.That(Convert("やったー"), Is.EqualTo("やったー"), "pykakasi's own test");
        Assert.That(Convert("Alphabet 123 and ひらがな"), Is.EqualTo("Alphabet 123 and ひらがな"));
        Assert.That(Convert("「カタカナ」、ＡＢＣ！？…"), Is.EqualTo("「かたかな」、ＡＢＣ！？…"));
        Assert.That(Convert("ﾞっ、"), Is.EqualTo("゛っ、"), "pykakasi's own test (issue 115)");
        Assert.That(Convert("ｶﾞｰﾃﾞﾝ ―−"), Is.EqualTo("が゜でん ―−"));
        Assert.That(Convert(""), Is.EqualTo(""));
    }

    [Test]
    public void DroppedCharactersRepeatThePendingPiece()
    {
        Assert.That(Convert("あ😀い"), Is.EqualTo("ああい"), "above U+FFFF: dropped, piece flushed twice");
        Assert.That(Convert("あ\nい"), Is.EqualTo("ああい"), "a control character: dropped, the piece grows on");
        Assert.That(Convert("カヽカ"), Is.EqualTo("かかか"));
        Assert.That(Convert("ｱ｡ｲ"), Is.EqualTo("ああい"), "half-width ｡ is in pykakasi's dropped range");
        Assert.That(Convert("いろ；は"), Is.EqualTo("いろいろは"), "full-width ； too");
        Assert.That(Convert("😀"), Is.EqualTo(""));
    }

    [Test]
    public void NonIdeographsInTheKanjiRangeTakeTheNextCharacterWithThem()
    {
        Assert.That(Convert("あ한글い"), Is.EqualTo("あい"));
        Assert.That(Convert("한"), Is.EqualTo(""));
        Assert.That(Convert("あ\uD800いう"), Is.EqualTo("あう"), "a lone surrogate is in pykakasi's kanji range");
    }

    [Test]
    public void KanjiWordsAreReplacedByTheirReadings()
    {
        // pykakasi's own test: 漢字 / とひらがな / 交じり / 文 → かんじ とひらがな まじり ぶん.
        Assert.That(Convert("漢字とひらがな交じり文", ("漢字", "カンジ"), ("と", "ト"), ("ひらがな", "ヒラガナ"), ("交じり", "マジリ"), ("文", "ブン")),
            Is.EqualTo("かんじとひらがなまじりぶん"));
        // pykakasi's own test: オレンジ / 色 → おれんじ いろ.
        Assert.That(Convert("オレンジ色", ("オレンジ", "オレンジ"), ("色", "イロ")), Is.EqualTo("おれんじいろ"));
        Assert.That(Convert("大きい", ("大きい", "オオキイ")), Is.EqualTo("おおきい"), "okurigana read with the word");
        Assert.That(Convert("東京ー", ("東京", "トウキョウ")), Is.EqualTo("とうきょうー"), "a long mark joins the reading");
    }

    [Test]
    public void KanaBeforeTheKanjiOfAWord()
    {
        Assert.That(Convert("お茶", ("お茶", "オチャ")), Is.EqualTo("おちゃ"), "お kept, 茶 read チャ");
        Assert.That(Convert("三ヶ月", ("三", "サン"), ("ヶ月", "カゲツ")), Is.EqualTo("さんかげつ"), "ヶ is not カ: the whole word is read");
        Assert.That(Convert("〆切", ("〆切", "シメキリ")), Is.EqualTo("しめきり"));
    }

    [Test]
    public void NumbersKeepTheirSoundChanges()
    {
        // OpenJTalk's NJD puts 六百's sound changes into pron (ロッ ピャク) and keeps read (ロク ヒャク).
        var words = new[]
        {
            new OpenJTalkWord("六", "ロク", "ロッ", "名詞,数,*"), new OpenJTalkWord("百", "ヒャク", "ピャク", "名詞,数,*"),
            new OpenJTalkWord("十", "ジュウ", "ジュー", "名詞,数,*"), new OpenJTalkWord("円", "エン", "エン", "名詞,接尾,助数詞"),
            new OpenJTalkWord("東京", "トウキョウ", "トーキョー", "名詞,固有名詞,地域"), new OpenJTalkWord("四", "ヨン", "ヨ", "名詞,数,*"),
        };
        string text = "六百十円東京四";
        var readings = KanjiReadings.Find(text, _ => words);
        Assert.That(KakasiHiragana.Convert(text, readings), Is.EqualTo("ろっぴゃくじゅうえんとうきょうよん"),
            "pron for numbers (ー back to the reading's kana; another length: read), read for the rest");
    }

    [Test]
    public void KanjiWithoutReadingIsDroppedAlone()
    {
        Assert.That(Convert("あ龘い", ("龘", "、")), Is.EqualTo("あい"));
        Assert.That(Convert("あ龘い", ("龘", null)), Is.EqualTo("あい"));
        Assert.That(Convert("龘"), Is.EqualTo(""));
    }

    [Test]
    public void VariationSelectorsAreReadWithTheirKanji()
    {
        Assert.That(Convert("葛\U000E0100城は", ("葛城", "カツラギ")), Is.EqualTo("かつらぎは"));
        Assert.That(Convert("葛\uFE00", ("葛", "クズ")), Is.EqualTo("くず"));
    }

    [Test]
    public void RunsGoToTheAnalyserTogetherAndComeBackApart()
    {
        var lines = new List<string>();
        var words = new (string, string?)[] { ("日本", "ニッポン"), ("東京", "トウキョウ"), ("京都", "キョウト") };
        var readings = KanjiReadings.Find("日本、123東京 と京都!", line => { lines.Add(line); return Words(line, words); });
        Assert.That(lines, Is.EqualTo(new[] { "日本、東京、と京都" }), "only runs with kanji; one call");
        Assert.That(KakasiHiragana.Convert("日本、123東京 と京都!", readings), Is.EqualTo("にっぽん、123とうきょう ときょうと!"));

        // When the separators do not come back as expected, each run is analysed alone.
        lines.Clear();
        readings = KanjiReadings.Find("日本、東京", line => { lines.Add(line); return line.Contains('、') ? [] : Words(line, words); });
        Assert.That(lines, Is.EqualTo(new[] { "日本、東京", "日本", "東京" }));
        Assert.That(KakasiHiragana.Convert("日本、東京", readings), Is.EqualTo("にっぽん、とうきょう"));
    }
}
