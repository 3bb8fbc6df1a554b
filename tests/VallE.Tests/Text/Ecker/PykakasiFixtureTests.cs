using System.Text;
using System.Text.Json;
using VallE.Runtime.Text.Ecker;
using VallE.Runtime.Text.Vallex.Japanese;
using VallE.Tests.Support;

namespace VallE.Tests.Text.Ecker;

/// <summary>
/// <see cref="KakasiHiragana"/> against pykakasi 2.3.0 itself: <c>pykakasi-hira.json</c> (beside this file) holds what
/// <c>"".join(r["hira"] for r in pykakasi.kakasi().convert(text))</c> (upstream's <c>coerce_to_hiragana</c>) returned,
/// written by <c>tools/ecker-ja/pykakasi_fixture.py</c>: every code point below U+10000 except CJK ideographs,
/// surrogates and U+FE00/U+FE01 (between two ア), a few above, 406 mixes (400 random) of kana, half-width kana, ASCII,
/// symbols and the characters pykakasi drops; those must match exactly. Kanji we read with OpenJTalk, not pykakasi's
/// dictionary: the fixture's 30 everyday sentences measure how close that comes (27 identical; the 3 others listed).
/// </summary>
public class PykakasiFixtureTests
{
    private static readonly Dictionary<int, KanjiReading> NoKanji = new();

    private static JsonElement Fixture()
    {
        string path = Path.Combine(TestPaths.RepoRoot, "tests", "VallE.Tests", "Text", "Ecker", "pykakasi-hira.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.Clone();
    }

    [Test]
    public void EveryCodePointBetweenTwoKatakana()
    {
        var root = Fixture();
        int checkedPoints = 0;
        var failures = new List<string>();
        void Check(int c, string expected)
        {
            string text = "ア" + char.ConvertFromUtf32(c) + "ア";
            string actual = KakasiHiragana.Convert(text, NoKanji);
            if (actual != expected && failures.Count < 20) failures.Add($"U+{c:X4}: expected '{expected}', got '{actual}'");
            checkedPoints++;
        }
        foreach (var range in root.GetProperty("ranges").EnumerateArray())
        {
            int first = range[0].GetInt32(), last = range[1].GetInt32();
            string kind = range[2].GetString()!;
            for (int c = first; c <= last; c++)
                Check(c, kind switch
                {
                    "kept" => "あ" + char.ConvertFromUtf32(c) + "あ",
                    "dropped" => "あああ",
                    "skips the next" => "あ",
                    _ => throw new InvalidDataException(kind),
                });
        }
        foreach (var single in root.GetProperty("singles").EnumerateObject())
            Check(Convert.ToInt32(single.Name, 16), single.Value.GetString()!);
        Assert.That(failures, Is.Empty);
        Assert.That(checkedPoints, Is.GreaterThan(35000));
    }

    [Test]
    public void RandomMixes()
    {
        var failures = new List<string>();
        int n = 0;
        foreach (var mix in Fixture().GetProperty("mixes").EnumerateArray())
        {
            string text = mix.GetProperty("text").GetString()!, expected = mix.GetProperty("hira").GetString()!;
            string actual = KakasiHiragana.Convert(text, NoKanji);
            if (actual != expected) failures.Add($"{Escape(text)}: expected {Escape(expected)}, got {Escape(actual)}");
            n++;
        }
        Assert.That(failures, Is.Empty);
        Assert.That(n, Is.EqualTo(406));
    }

    // Where OpenJTalk's readings and pykakasi's part, ours first: all three are pykakasi's errors (今日は read as the
    // greeting, 六時 ろくとき, 開けて ひらけて).
    private static readonly Dictionary<string, string> KnownDifferences = new()
    {
        ["今日は良い天気ですね。"] = "きょうはよいてんきですね。",
        ["彼女は毎朝六時に起きる。"] = "かのじょはまいあさろくじにおきる。",
        ["窓を開けてもよろしいですか。"] = "まどをあけてもよろしいですか。",
    };

    [Test]
    public void SentencesWithKanjiReadByOpenJTalk()
    {
        if (OpenJTalkLabeler.UnavailableReason is { } why) Assert.Ignore($"OpenJTalk is not usable here, skipping: {why}");
        var fe = new EckerTextFrontEnd(EckerBpeTokenizer.Parse("""{"version":"1.0","added_tokens":[],"model":{"type":"BPE","vocab":{"<unk>":0},"merges":[],"unk_token":"<unk>"}}"""));
        int same = 0, n = 0;
        var failures = new List<string>();
        foreach (var s in Fixture().GetProperty("sentences").EnumerateArray())
        {
            string text = s.GetProperty("text").GetString()!, pykakasi = s.GetProperty("hira").GetString()!;
            string ours = fe.ToHiragana(text);
            string expected = KnownDifferences.GetValueOrDefault(text, pykakasi);
            if (ours != expected) failures.Add($"{text}: expected {expected} (pykakasi {pykakasi}), got {ours}");
            if (ours == pykakasi) same++;
            n++;
        }
        Assert.That(failures, Is.Empty);
        Assert.That((n, same), Is.EqualTo((30, 27)));
    }

    private static string Escape(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var r in s.EnumerateRunes()) sb.Append(r.Value < 0x20 ? $"\\x{r.Value:X2}" : r.ToString());
        return sb.Append('"').ToString();
    }
}
