using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using VallE.Runtime.Text.Vallex;
using VallE.Runtime.Text.Vallex.Mandarin;
using VallE.Tests.Support;

namespace VallE.Tests.Text.Vallex;

/// <summary>
/// The Mandarin G2P against ../shared/fixtures/text/vallex-zh.json (upstream VALL-E X with jieba 0.42.1,
/// pypinyin 0.55.0, cn2an 0.5.23) and its parts against values printed by those libraries.
/// </summary>
public class MandarinTests
{
    private static readonly MandarinG2P G2P = new();

    private sealed record Entry(string Text, string Language, string Phonemes);

    private static List<Entry> LoadFixture()
    {
        string path = TestPaths.RequireShared("text", "vallex-zh.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.EnumerateArray().Select(e => new Entry(
            e.GetProperty("text").GetString()!,
            e.GetProperty("language").GetString()!,
            e.GetProperty("phonemes").GetString()!)).ToList();
    }

    /// <summary>
    /// What cje_cleaners' clean_one adds around a [ZH] segment's chinese_to_ipa: a space, trailing whitespace
    /// removed, '.' added unless it ends in . , ! ? - … ~; the tokenizer then writes spaces as '_'.
    /// </summary>
    private static string CleanOne(string ipa)
    {
        string s = (ipa + " ").TrimEnd(' ', '\t', '\n', '\r', '\f', '\v');
        if (s.Length > 0 && ".,!?-…~".IndexOf(s[^1]) < 0) s += ".";
        return s.Replace(' ', '_');
    }

    private static string Diff(string expected, string actual)
    {
        int i = 0;
        while (i < expected.Length && i < actual.Length && expected[i] == actual[i]) i++;
        return $"first difference at {i}:\n  expected …{expected[Math.Max(0, i - 10)..]}\n  actual   …{actual[Math.Max(0, i - 10)..]}";
    }

    [Test]
    public void EveryZhRecordMatchesUpstream()
    {
        var records = LoadFixture().Where(r => r.Language == "zh").ToList();
        Assert.That(records, Has.Count.EqualTo(20));
        var failures = new List<string>();
        foreach (var r in records)
        {
            string actual = CleanOne(G2P.ToIpa(r.Text));
            if (actual != r.Phonemes) failures.Add($"{r.Text}\n{Diff(r.Phonemes, actual)}");
        }
        Assert.That(failures, Is.Empty, $"{records.Count - failures.Count}/{records.Count} match\n" + string.Join("\n", failures));
    }

    /// <summary>Mixed records: each [ZH] segment's part sits exactly where upstream put it; other languages' parts are
    /// only required to be non-empty (their G2Ps are tested elsewhere).</summary>
    [Test]
    public void ZhSegmentsOfMixedRecordsMatchUpstream()
    {
        var records = LoadFixture().Where(r => r.Language == "mix").ToList();
        Assert.That(records, Has.Count.EqualTo(4));
        var segment = new Regex(@"\[(ZH|EN|JA)\](.*?)\[\1\]");
        foreach (var r in records)
        {
            var pattern = new StringBuilder("^");
            var matches = segment.Matches(r.Text).OrderBy(m => m.Index).ToList();
            Assert.That(matches.Any(m => m.Groups[1].Value == "ZH"), r.Text);
            foreach (Match m in matches)
                pattern.Append(m.Groups[1].Value == "ZH" ? Regex.Escape(CleanOne(G2P.ToIpa(m.Groups[2].Value))) : "(.+?)");
            pattern.Append('$');
            Assert.That(Regex.IsMatch(r.Phonemes, pattern.ToString()), Is.True, $"{r.Text}\n  expected {r.Phonemes}\n  pattern  {pattern}");
        }
    }

    [Test]
    public void LanguageIsZhAndTheRegistryFindsIt()
    {
        Assert.That(G2P.Language, Is.EqualTo("zh"));
        Assert.That(VallexG2PRegistry.Get("zh"), Is.InstanceOf<MandarinG2P>());
    }

    // chinese_to_ipa as upstream prints it (no clean_one).
    [TestCase("", "")]
    [TestCase("你好", "ni↓↑xɑʊ↓↑")]
    [TestCase("ABC xyz", "eɪ→p⁼i↓si→ ɛ→kʰu↓sɹ↓waɪ↓ts⁼eɪ↓")]
    [TestCase("知道日子", "ts`⁼ɹ`→t⁼ɑʊ↓ ɹ`ɹ`↓ts⁼ɹ")]
    [TestCase("四次", "sɹ↓tsʰɹ↓")]
    [TestCase("思考", "sɹ→kʰɑʊ↓↑")]
    [TestCase("\u212A\u017F\u0130\u0131", "kʰeɪ↓ɛ↑sɹ↓aɪ↓aɪ↓")]
    [TestCase("儿子", "əɹ`↑ts⁼ɹ")]
    [TestCase("十四", "s`ɹ`↑sɹ↓")]
    [TestCase("哈哈—", "xa→xa→-")]
    [TestCase("第1.5、2；3：4", "t⁼i↓i↓t⁼jɛn↓↑ u↓↑, əɹ`↓, san→, sɹ↓")]
    public void ChineseToIpa(string text, string expected) => Assert.That(G2P.ToIpa(text), Is.EqualTo(expected));

    // cn2an 0.5.23 an2cn(s), mode "low".
    [TestCase("0", "零")]
    [TestCase("7", "七")]
    [TestCase("10", "十")]
    [TestCase("15", "十五")]
    [TestCase("100", "一百")]
    [TestCase("101", "一百零一")]
    [TestCase("110", "一百一十")]
    [TestCase("1000", "一千")]
    [TestCase("1001", "一千零一")]
    [TestCase("1010", "一千零一十")]
    [TestCase("10000", "一万")]
    [TestCase("10001", "一万零一")]
    [TestCase("100000", "十万")]
    [TestCase("1000000", "一百万")]
    [TestCase("10000000", "一千万")]
    [TestCase("100000000", "一亿")]
    [TestCase("100000001", "一亿零一")]
    [TestCase("1000010000", "十亿零一万")]
    [TestCase("2024", "二千零二十四")]
    [TestCase("1200", "一千二百")]
    [TestCase("6300", "六千三百")]
    [TestCase("356", "三百五十六")]
    [TestCase("00", "零")]
    [TestCase("007", "七")]
    [TestCase("0.5", "零点五")]
    [TestCase("3.50", "三点五零")]
    [TestCase("1.75", "一点七五")]
    [TestCase("10.01", "十点零一")]
    [TestCase("1234567890123456", "一千二百三十四万五千六百七十八亿九千零一十二万三千四百五十六")]
    [TestCase("0.12345678901234567", "零点一二三四五六七八九零一二三四五六")]
    [TestCase("20000000", "二千万")]
    [TestCase("200010000", "二亿零一万")]
    [TestCase("1100000000", "十一亿")]
    [TestCase("３", "三")]
    public void An2Cn(string number, string expected) => Assert.That(ChineseNumbers.ToChinese(number), Is.EqualTo(expected));

    [TestCase("12345678901234567")] // more than 16 digits before the point: cn2an raises
    [TestCase("٣")]                 // a decimal digit cn2an does not take
    public void An2CnRejects(string number) =>
        Assert.Throws<VallE.InvalidInputException>(() => ChineseNumbers.ToChinese(number));

    // mandarin.py's number_to_chinese: numbers found first, each replaced at its first occurrence.
    [TestCase("共1个和12个", "共一个和十二个")]
    [TestCase("1 21 1", "一 二十一 一")]
    [TestCase("版本3.5.1", "版本三点五.一")]
    [TestCase("1.2.3", "一点二.三")]
    [TestCase("电话13800138000", "电话一百三十八亿零一十三万八千")]
    [TestCase("没有数字", "没有数字")]
    public void NumbersInText(string text, string expected) => Assert.That(ChineseNumbers.Replace(text), Is.EqualTo(expected));

    // jieba 0.42.1 lcut(text) (HMM on), as printed by jieba.
    [TestCase("我们的GPU服务器", "我们|的|GPU|服务器")]
    [TestCase("你知道人工智能AI会怎样", "你|知道|人工智能|AI|会|怎样")]
    [TestCase("他说：“我明天不来了。”", "他|说|：|“|我|明天|不来|了|。|”")]
    [TestCase("请在下载页面选择Windows版本。", "请|在|下载|页面|选择|Windows|版本|。")]
    [TestCase("a\r\nb  c\t", "a|\r\n|b| | |c|\t")]
    [TestCase("小明硕士毕业于中国科学院计算所", "小明|硕士|毕业|于|中国科学院|计算所")]
    [TestCase("他来到了网易杭研大厦", "他|来到|了|网易|杭研|大厦")] // 杭研: from the HMM
    [TestCase("iPhone15发布了", "iPhone15|发布|了")]
    [TestCase("价格是3.5万元，涨了15%", "价格|是|3.5|万元|，|涨|了|15%")]
    [TestCase("\U00020000字", "\U00020000|字")]
    [TestCase("C++和C#", "C++|和|C#")]
    [TestCase("㐀好", "㐀|好")]
    [TestCase("", "")]
    public void JiebaCut(string text, string expected) =>
        Assert.That(string.Join("|", JiebaSegmenter.Default.Cut(text)), Is.EqualTo(expected));

    // pypinyin 0.55.0 lazy_pinyin(word, Style.BOPOMOFO).
    [TestCase("中国", "ㄓㄨㄥ ㄍㄨㄛˊ")]
    [TestCase("吧", "ㄅㄚ˙")]
    [TestCase("女儿", "ㄋㄩˇ ㄦˊ")]
    [TestCase("绿色", "ㄌㄩˋ ㄙㄜˋ")]
    [TestCase("嗯", "ㄣˊ")]
    [TestCase("呣", "ㄇㄨˊ")]
    [TestCase("哼", "ㄏㄥ")]
    [TestCase("旅游", "ㄌㄩˇ ㄧㄡˊ")]
    [TestCase("小孩儿", "ㄒㄧㄠˇ ㄏㄞˊ ㄦˊ")]
    [TestCase("一会儿", "ㄧ ㄏㄨㄟˋ ㄦ˙")]
    [TestCase("诶", "ㄟˊ")]
    [TestCase("欸", "ㄞ")]
    [TestCase("T恤", "T ㄒㄩˋ")]
    [TestCase("〇", "ㄌㄧㄥˊ")]
    [TestCase("重庆", "ㄔㄨㄥˊ ㄑㄧㄥˋ")]
    [TestCase("银行", "ㄧㄣˊ ㄏㄤˊ")]
    [TestCase("长江", "ㄔㄤˊ ㄐㄧㄤ")]
    [TestCase("什么", "ㄕㄣˊ ㄇㄜ˙")]
    [TestCase("一个", "ㄧˊ ㄍㄜˋ")]
    public void LazyPinyinBopomofo(string word, string expected) =>
        Assert.That(string.Join(" ", LazyPinyin.Default.ToBopomofo(word)), Is.EqualTo(expected));

    // pypinyin 0.55.0's Style.BOPOMOFO for single readings, including every unusual one of its dictionaries.
    [TestCase("zhōng", "ㄓㄨㄥ")]
    [TestCase("lǜ", "ㄌㄩˋ")]
    [TestCase("xué", "ㄒㄩㄝˊ")]
    [TestCase("qióng", "ㄑㄩㄥˊ")]
    [TestCase("shì", "ㄕˋ")]
    [TestCase("sī", "ㄙ")]
    [TestCase("yuán", "ㄩㄢˊ")]
    [TestCase("wǒ", "ㄨㄛˇ")]
    [TestCase("liù", "ㄌㄧㄡˋ")]
    [TestCase("guǐ", "ㄍㄨㄟˇ")]
    [TestCase("er", "ㄦ˙")]
    [TestCase("hm", "ㄏㄇ˙")]
    [TestCase("lo", "ㄌㄛ˙")]
    [TestCase("ń", "ㄣˊ")]
    [TestCase("ň", "ㄣˇ")]
    [TestCase("ǹ", "ㄣˋ")]
    [TestCase("ḿ", "ㄇㄨˊ")]
    [TestCase("䶵", "䶵˙")] // no pinyin: the character goes through the style as it is
    public void BopomofoOfOneReading(string pinyin, string expected) => Assert.That(Bopomofo.FromPinyin(pinyin), Is.EqualTo(expected));

    // pypinyin's phrase segmentation (seg.mmseg.seg.cut): note 人工智能, a prefix of a longer phrase with no phrase
    // inside, which comes out as single characters.
    [TestCase("一丁不识", "一丁不识")]
    [TestCase("一丁点", "一|丁|点")]
    [TestCase("中华人民共和国万岁", "中华人民共和国|万岁")]
    [TestCase("一丁", "一|丁")]
    [TestCase("长江大桥", "长江|大桥")]
    [TestCase("人工智能", "人|工|智|能")]
    public void PhraseSegmentation(string run, string expected) =>
        Assert.That(string.Join("|", LazyPinyin.Default.CutPhrases(run)), Is.EqualTo(expected));

    [Test]
    public void DataLoadsWithTheExpectedSizes()
    {
        var jieba = JiebaDictionary.Default;
        Assert.That(jieba.WordCount, Is.EqualTo(349_045));
        Assert.That(jieba.Total, Is.EqualTo(60_101_967));
        var pinyin = PinyinDictionary.Default;
        Assert.That(pinyin.CharCount, Is.EqualTo(41_923));
        Assert.That(pinyin.PhraseCount, Is.EqualTo(47_111));
    }
}

/// <summary>
/// Many-input comparison with upstream, run on demand: VALLE_ZH_REFERENCE names a file of "input&lt;TAB&gt;output"
/// lines written by tools/vallex-zh-data/reference.py (upstream's chinese_to_ipa; "!ERROR …" where it raised).
/// </summary>
public class MandarinReferenceTests
{
    [Test]
    public void MatchesUpstreamOnTheReferenceFile()
    {
        string? path = Environment.GetEnvironmentVariable("VALLE_ZH_REFERENCE");
        if (string.IsNullOrEmpty(path)) Assert.Ignore("VALLE_ZH_REFERENCE is not set (tools/vallex-zh-data/reference.py writes the file)");
        var g2p = new MandarinG2P();
        int total = 0;
        var failures = new List<string>();
        foreach (string line in File.ReadLines(path!))
        {
            int tab = line.IndexOf('\t');
            if (tab < 0) continue;
            string input = line[..tab], expected = line[(tab + 1)..];
            total++;
            string actual;
            try { actual = g2p.ToIpa(input); }
            catch (VallE.InvalidInputException e) { actual = "!ERROR " + e.Message; }
            bool same = expected.StartsWith("!ERROR", StringComparison.Ordinal)
                ? actual.StartsWith("!ERROR", StringComparison.Ordinal) : actual == expected;
            if (!same && failures.Count < 50) failures.Add($"{input}\n  expected {expected}\n  actual   {actual}");
            else if (!same) failures.Add("");
        }
        TestContext.Out.WriteLine($"{total - failures.Count}/{total} match");
        Assert.That(failures, Is.Empty, $"{total - failures.Count}/{total} match\n" + string.Join("\n", failures.Take(50)));
    }
}
