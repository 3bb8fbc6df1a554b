using VallE.Runtime.Text.Ecker;
using VallE.Runtime.Text.Vallex.Japanese;

namespace VallE.Tests.Text.Ecker;

/// <summary>
/// Japanese through the e-c-k-e-r front end with the real OpenJTalk (Debian's open-jtalk + naist-jdic, which
/// ./build.sh deps installs; skipped with the reason when it is missing). The hiragana expectations were checked by
/// hand (each word's reading is its only common one); those marked "pykakasi's own test" are also what pykakasi's test
/// suite asserts for the same text, i.e. upstream's result. The "NotPykakasi" cases show where they differ: naist-jdic
/// reads 日本 にっぽん (pykakasi にほん) and the 色 of オレンジ色 as the suffix しょく (pykakasi いろ). The phonemes and ids were then produced by this pipeline (libespeak-ng 1.51), not by upstream.
/// </summary>
public class EckerJapaneseTests
{
    private static void RequireOpenJTalk()
    {
        if (OpenJTalkLabeler.UnavailableReason is { } why) Assert.Ignore($"OpenJTalk is not usable here, skipping: {why}");
    }

    private static EckerTextFrontEnd FrontEndWithoutTokenizer() =>
        new(EckerBpeTokenizer.Parse("""{"version":"1.0","added_tokens":[],"model":{"type":"BPE","vocab":{"<unk>":0},"merges":[],"unk_token":"<unk>"}}"""));

    [TestCase("漢字とひらがな交じり文", "かんじとひらがなまじりぶん", TestName = "Hiragana_PykakasiTest_Kanji")]
    [TestCase("私は品行方正な人間として周囲から待遇されて居る。", "わたしはひんこうほうせいなにんげんとしてしゅういからたいぐうされている。", TestName = "Hiragana_PykakasiTest_Aozora")]
    [TestCase("明日は明日の風が吹く", "あしたはあしたのかぜがふく", TestName = "Hiragana_PykakasiTest_Ashita")]
    [TestCase("日経新聞", "にっけいしんぶん", TestName = "Hiragana_PykakasiTest_Nikkei")]
    [TestCase("東京タワーへ行きましょう。", "とうきょうたわーへいきましょう。", TestName = "Hiragana_Tokyo")]
    [TestCase("大きい犬を見た、お茶とご飯。", "おおきいいぬをみた、おちゃとごはん。", TestName = "Hiragana_Inu")]
    [TestCase("六百円の本を一本、三百二十円。", "ろっぴゃくえんのほんをいっぽん、さんびゃくにじゅうえん。", TestName = "Hiragana_Numbers")]
    // Where naist-jdic and pykakasi differ (pykakasi's own tests: にほんこくみんは、 and おれんじいろ).
    [TestCase("日本国民は、", "にっぽんこくみんは、", TestName = "Hiragana_Nippon_NotPykakasi")]
    [TestCase("オレンジ色", "おれんじしょく", TestName = "Hiragana_Orange_NotPykakasi")]
    public void KanjiReadWithOpenJTalk(string text, string hiragana)
    {
        RequireOpenJTalk();
        Assert.That(FrontEndWithoutTokenizer().ToHiragana(text), Is.EqualTo(hiragana));
    }

    [Test]
    public void KanaOnlyTextNeedsNoOpenJTalk()
    {
        var fe = new EckerTextFrontEnd(EckerBpeTokenizer.Parse("""{"version":"1.0","added_tokens":[],"model":{"type":"BPE","vocab":{"<unk>":0},"merges":[],"unk_token":"<unk>"}}"""),
            _ => throw new InvalidOperationException("OpenJTalk asked for kana-only text"));
        Assert.That(fe.ToHiragana("カタカナとｶﾀｶﾅ、ひらがな。"), Is.EqualTo("かたかなとかたかな、ひらがな。"));
    }

    [Test]
    public void PhonemesOfKanjiText()
    {
        RequireOpenJTalk();
        EspeakTestSupport.RequireEspeak();
        var fe = FrontEndWithoutTokenizer();
        // Same phonemes as the hand-checked hiragana gives: the kanji path changes only what espeak is handed.
        Assert.That(fe.Phonemize("明日は明日の風が吹く。", "ja"), Is.EqualTo(fe.Phonemize("あしたはあしたのかぜがふく。", "ja")));
        Assert.That(fe.Phonemize("明日は明日の風が吹く。", "ja"), Is.EqualTo("ˌäɕitˌähääɕˌitänˌo̞käzˌe̞ɡäɸˈɯᵝkɯᵝ"));
        Assert.That(fe.Phonemize("東京タワーへ行きましょう。", "ja"), Is.EqualTo("tˌo̞ɯᵝkʲˌo̞ɯᵝtˌäwäähˌe̞ikˌimäɕˈo̞ɯᵝ"));
    }

    [Test]
    public void TokenIdsOfKanjiText()
    {
        RequireOpenJTalk();
        EspeakTestSupport.RequireEspeak();
        string? path = Environment.GetEnvironmentVariable("VALLE_ECKER_TOKENIZER");
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
            Assert.Ignore("upstream's tokenizer.json is not redistributed (AGPL-3.0): set VALLE_ECKER_TOKENIZER to e-c-k-e-r/vall-e's data/tokenizer.json (commit 73833ee) to run this test");
        var r = EckerTextFrontEnd.Load(path!).Tokenize("明日は明日の風が吹く。", "ja");
        Assert.That(r.LanguageId, Is.EqualTo(1));
        Assert.That(r.TokenIds, Is.EqualTo(new[] { 1, 73, 16, 51, 23, 34, 73, 16, 22, 16, 16, 51, 73, 23, 34, 16, 28, 73, 29, 29, 25, 16, 39, 73, 20, 29, 57, 16, 30, 72, 60, 4, 25, 60, 4, 2 }));
    }

    [Test]
    public void ParsesTheTextAnalysisSection()
    {
        const string Trace = "[Text analysis result]\n" +
            "日本,名詞,固有名詞,地域,国,*,*,日本,ニッポン,ニッポン,5/4,C1,-1\n" +
            "は,助詞,係助詞,*,*,*,*,は,ハ,ワ,0/1,名詞%F1/動詞%F2@0/形容詞%F2@0,1\n" +
            "，,記号,読点,*,*,*,*,，,、,、,0/0,*,0\n" +
            "謎,名詞,一般,*,*,*,*,謎,*,*,0/0,*,0\n\n[Output label]\n0 1 xx\n";
        var words = OpenJTalkLabeler.ParseWords(Trace)!;
        Assert.That(words, Is.EqualTo(new[]
        {
            new OpenJTalkWord("日本", "ニッポン", "ニッポン", "名詞,固有名詞,地域"), new OpenJTalkWord("は", "ハ", "ワ", "助詞,係助詞,*"),
            new OpenJTalkWord("，", "、", "、", "記号,読点,*"), new OpenJTalkWord("謎", null, null, "名詞,一般,*"),
        }));
        Assert.That(OpenJTalkLabeler.ParseWords("no trace"), Is.Null);
        Assert.Throws<VallE.NativeDependencyException>(() => OpenJTalkLabeler.ParseWords("[Text analysis result]\na,b\n"));
    }

    [Test]
    public void ExtractWordsRunsOpenJTalk()
    {
        RequireOpenJTalk();
        var words = OpenJTalkLabeler.Shared.ExtractWords("東京へ行った");
        Assert.That(words.Select(w => w.Surface), Is.EqualTo(new[] { "東京", "へ", "行っ", "た" }));
        Assert.That(words[0].Reading, Is.EqualTo("トウキョウ"), "read, not pron (トーキョー)");
        Assert.That(OpenJTalkLabeler.Shared.ExtractWords("、。"), Is.Empty, "nothing to say");
    }
}
