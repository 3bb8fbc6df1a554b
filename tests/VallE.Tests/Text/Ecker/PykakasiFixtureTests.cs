using System.Text;
using System.Text.Json;
using VallE.Runtime.Text.Ecker;
using VallE.Tests.Support;

namespace VallE.Tests.Text.Ecker;

/// <summary>
/// <see cref="KakasiHiragana"/> against pykakasi 2.3.0 itself: <c>pykakasi-hira.json</c> (beside this file) holds what
/// <c>"".join(r["hira"] for r in pykakasi.kakasi().convert(text))</c> (upstream's <c>coerce_to_hiragana</c>) returned,
/// written by <c>tools/ecker-ja/pykakasi_fixture.py</c>: every code point below U+10000 except CJK ideographs,
/// surrogates and U+FE00/U+FE01 (between two ア), a few above, 406 mixes (400 random) of kana, half-width kana, ASCII,
/// symbols and the characters pykakasi drops. No kanji: those we read with OpenJTalk, not pykakasi's dictionary.
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

    private static string Escape(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var r in s.EnumerateRunes()) sb.Append(r.Value < 0x20 ? $"\\x{r.Value:X2}" : r.ToString());
        return sb.Append('"').ToString();
    }
}
