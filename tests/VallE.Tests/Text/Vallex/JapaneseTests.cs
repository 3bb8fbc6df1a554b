using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using VallE.Runtime.Text.Vallex.Japanese;
using VallE.Tests.Support;

namespace VallE.Tests.Text.Vallex;

/// <summary>
/// VALL-E X's Japanese front end against ../shared/fixtures/text/vallex-ja.json (upstream's
/// <c>cje_cleaners</c> over pyopenjtalk 0.3.0 with Debian's naist-jdic). The fixture tests need OpenJTalk
/// (<c>./build.sh deps</c> installs it) and skip with the reason when it is missing; the others do not.
/// </summary>
public class JapaneseTests
{
    private sealed record Entry(string Text, string Language, string Phonemes);

    private static readonly Regex Segment = new(@"\[(EN|ZH|JA)\](.*?)\[\1\]", RegexOptions.CultureInvariant);

    private static List<Entry> LoadFixture()
    {
        string path = TestPaths.RequireShared("text", "vallex-ja.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return [.. doc.RootElement.EnumerateArray().Select(e => new Entry(
            e.GetProperty("text").GetString()!,
            e.GetProperty("language").GetString()!,
            e.GetProperty("phonemes").GetString()!))];
    }

    private static JapaneseG2P RequireOpenJTalk()
    {
        if (OpenJTalkLabeler.UnavailableReason is { } why) Assert.Ignore($"OpenJTalk is not usable here, skipping: {why}");
        return new JapaneseG2P(OpenJTalkLabeler.Shared);
    }

    /// <summary>What <c>clean_one</c> makes of one segment's phonemes: + " ", trailing whitespace stripped, "." unless it ends in punctuation.</summary>
    private static string CleanOne(string ipa)
    {
        string text = (ipa + " ").TrimEnd(' ', '\t', '\n', '\r', '\f', '\v');
        if (text.Length > 0 && ".,!?-…~".IndexOf(text[^1]) < 0) text += ".";
        return text;
    }

    /// <summary>The record's phonemes as the tokenizer sees them (spaces → _), with non-Japanese segments as wildcards.</summary>
    private static (Regex Pattern, string Shown) Expected(JapaneseG2P g2p, Entry entry)
    {
        string tagged = entry.Language == "ja" ? $"[JA]{entry.Text}[JA]" : entry.Text;
        var pattern = new StringBuilder("^");
        var shown = new StringBuilder();
        foreach (Match m in Segment.Matches(tagged))
        {
            if (m.Groups[1].Value == "JA")
            {
                string ja = CleanOne(g2p.ToIpa(m.Groups[2].Value)).Replace(' ', '_');
                pattern.Append(Regex.Escape(ja));
                shown.Append(ja);
            }
            else
            {
                pattern.Append(".+?");
                shown.Append($"<{m.Groups[1].Value}>");
            }
        }
        return (new Regex(pattern.Append('$').ToString(), RegexOptions.CultureInvariant), shown.ToString());
    }

    [Test]
    public void EveryRecordMatchesUpstreamPhonemes()
    {
        var fixture = LoadFixture();
        var g2p = RequireOpenJTalk();
        Assert.That(fixture, Has.Count.EqualTo(17));
        var mismatches = new List<string>();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        foreach (var entry in fixture)
        {
            var (pattern, shown) = Expected(g2p, entry);
            if (!pattern.IsMatch(entry.Phonemes)) mismatches.Add(Describe(entry, shown));
        }
        TestContext.Out.WriteLine($"{fixture.Count - mismatches.Count}/{fixture.Count} records match ({watch.ElapsedMilliseconds} ms)");
        Assert.That(mismatches, Is.Empty, string.Join("\n", mismatches));
    }

    private static string Describe(Entry entry, string actual)
    {
        string expected = entry.Phonemes;
        int i = 0;
        while (i < expected.Length && i < actual.Length && expected[i] == actual[i]) i++;
        return $"{entry.Text}\n  expected {expected}\n  actual   {actual}\n  first difference at {i}: " +
               $"'{expected[i..Math.Min(expected.Length, i + 12)]}' vs '{actual[i..Math.Min(actual.Length, i + 12)]}'";
    }

    [Test]
    public void PunctuationAndSpacesFollowUpstream()
    {
        var g2p = RequireOpenJTalk();
        // Marks become their transliteration; a run after anything already written starts with a space.
        Assert.That(g2p.ToIpa("はい。"), Is.EqualTo("ha↓i."));
        Assert.That(g2p.ToIpa("「はい」"), Is.EqualTo("[ ha↓i]"));
        Assert.That(g2p.ToIpa("はい はい"), Is.EqualTo("ha↓i ha↓i"));
        Assert.That(g2p.ToIpa(""), Is.EqualTo(""));
        Assert.That(g2p.ToIpa("、。"), Is.EqualTo(",."));
    }

    [Test]
    public void MissingOpenJTalkIsANativeDependencyError()
    {
        var labeler = new OpenJTalkLabeler("/nonexistent/open_jtalk", OpenJTalkLabeler.DefaultDictionary, OpenJTalkLabeler.DefaultVoice);
        var e = Assert.Throws<NativeDependencyException>(() => new JapaneseG2P(labeler).ToIpa("テスト"));
        Assert.That(e!.Message, Does.Contain("open-jtalk"));
    }

    [Test]
    public void OverlongRunIsRefused()
    {
        var labeler = new OpenJTalkLabeler("/nonexistent/open_jtalk", OpenJTalkLabeler.DefaultDictionary, OpenJTalkLabeler.DefaultVoice);
        Assert.Throws<InvalidInputException>(() => labeler.ExtractFullContext(new string('あ', 400)));
    }

    // Labels of 「と言った」 (OpenJTalk 1.11, naist-jdic): a one-mora accent phrase, split by upstream's boundary rule.
    private static readonly string[] ToItta =
    [
        "xx^xx-sil+t=o/A:xx+xx+xx/B:xx-xx_xx/C:xx_xx+xx/D:13+xx_xx/E:xx_xx!xx_xx-xx/F:xx_xx#xx_xx@xx_xx|xx_xx/G:1_1%0_xx_xx/H:xx_xx/I:xx-xx@xx+xx&xx-xx|xx+xx/J:2_4/K:1+2-4",
        "xx^sil-t+o=i/A:0+1+1/B:xx-xx_xx/C:13_xx+xx/D:20+1_1/E:xx_xx!xx_xx-xx/F:1_1#0_xx@1_2|1_4/G:3_3%0_xx_1/H:xx_xx/I:2-4@1+1&1-2|1+4/J:xx_xx/K:1+2-4",
        "sil^t-o+i=cl/A:0+1+1/B:xx-xx_xx/C:13_xx+xx/D:20+1_1/E:xx_xx!xx_xx-xx/F:1_1#0_xx@1_2|1_4/G:3_3%0_xx_1/H:xx_xx/I:2-4@1+1&1-2|1+4/J:xx_xx/K:1+2-4",
        "t^o-i+cl=t/A:-2+1+3/B:13-xx_xx/C:20_1+1/D:10+7_2/E:1_1!0_xx-1/F:3_3#0_xx@2_1|2_3/G:xx_xx%xx_xx_xx/H:xx_xx/I:2-4@1+1&1-2|1+4/J:xx_xx/K:1+2-4",
        "o^i-cl+t=a/A:-1+2+2/B:13-xx_xx/C:20_1+1/D:10+7_2/E:1_1!0_xx-1/F:3_3#0_xx@2_1|2_3/G:xx_xx%xx_xx_xx/H:xx_xx/I:2-4@1+1&1-2|1+4/J:xx_xx/K:1+2-4",
        "i^cl-t+a=sil/A:0+3+1/B:20-1_1/C:10_7+2/D:xx+xx_xx/E:1_1!0_xx-1/F:3_3#0_xx@2_1|2_3/G:xx_xx%xx_xx_xx/H:xx_xx/I:2-4@1+1&1-2|1+4/J:xx_xx/K:1+2-4",
        "cl^t-a+sil=xx/A:0+3+1/B:20-1_1/C:10_7+2/D:xx+xx_xx/E:1_1!0_xx-1/F:3_3#0_xx@2_1|2_3/G:xx_xx%xx_xx_xx/H:xx_xx/I:2-4@1+1&1-2|1+4/J:xx_xx/K:1+2-4",
        "t^a-sil+xx=xx/A:xx+xx+xx/B:10-7_2/C:xx_xx+xx/D:xx+xx_xx/E:3_3!0_xx-xx/F:xx_xx#xx_xx@xx_xx|xx_xx/G:xx_xx%xx_xx_xx/H:2_4/I:xx-xx@xx+xx&xx-xx|xx+xx/J:xx_xx/K:1+2-4",
    ];

    [Test]
    public void LabelsBecomeRomajiWithAccents()
    {
        var sb = new StringBuilder();
        JapaneseRomaji.AppendPhonemes(sb, ToItta);
        Assert.That(sb.ToString(), Is.EqualTo("t o i↑Qta"));
        Assert.That(JapaneseIpa.FromRomaji(sb.ToString()), Is.EqualTo("t o i↑t#ta"));
    }

    [Test]
    public void TraceParsingKeepsTheLabelNames()
    {
        string trace = "[Text analysis result]\nと,助詞\n\n[Output label]\n0 100 " + ToItta[0] + "\n100 200 " + ToItta[1] + "\n\n[Global parameter]\n";
        Assert.That(OpenJTalkLabeler.ParseTrace(trace), Is.EqualTo(ToItta[..2]));
        Assert.That(OpenJTalkLabeler.ParseTrace("no labels"), Is.Null);
    }

    [TestCase("koNniʧiwa", "konn^itʃiwa")]
    [TestCase("saN↓jikara", "san^↓dʑikaɾa")]
    [TestCase("niQpoN", "n^ip#poN")]
    [TestCase("ʧoQto", "tʃot#to")]
    [TestCase("kiQsa", "kissa")]
    [TestCase("teNki", "teŋki")]
    [TestCase("deshI...", "deshi*…")]
    [TestCase("hyakU", "çakɯ*")]
    [TestCase("fuji", "ɸɯdʑi")]
    [TestCase("QQka", "Qk#ka")]
    public void RomajiBecomesIpa2(string romaji, string ipa) =>
        Assert.That(JapaneseIpa.FromRomaji(romaji), Is.EqualTo(ipa));

    [Test]
    public void TextIsCutAtEveryNonJapaneseCharacter()
    {
        var pieces = JapaneseRomaji.Split("50％オフ、ＡＢ０・x「y」é");
        Assert.That(pieces.Select(p => (p.Text, p.IsJapanese)), Is.EqualTo(new[]
        {
            ("50パーセントオフ", true), (",", false), ("ＡＢ０・x", true), ("[", false), ("y", true), ("]", false), ("e", false),
        }));
    }
}
