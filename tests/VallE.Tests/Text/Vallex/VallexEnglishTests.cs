using System.Text.Json;
using VallE.Runtime.Text.Vallex.English;
using VallE.Tests.Support;

namespace VallE.Tests.Text.Vallex;

/// <summary>
/// The English parts of the VALL-E X front end: number words against Debian's python3-inflect (recorded in
/// inflect-numbers.json by tools/vallex_en_reference.py), english.py's number normalisation, abbreviations, the
/// ASCII fold, eng_to_ipa's look-up, stress and punctuation rules.
/// </summary>
public class VallexEnglishTests
{
    private sealed record NumberCase(string Num, int Group, string AndWord, string Zero, string Words);

    private static IEnumerable<TestCaseData> InflectCases()
    {
        string path = Path.Combine(TestPaths.RepoRoot, "tests", "VallE.Tests", "Text", "Vallex", "inflect-numbers.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            var nc = new NumberCase(c.GetProperty("num").GetString()!, c.GetProperty("group").GetInt32(),
                c.GetProperty("andword").GetString()!, c.GetProperty("zero").GetString()!, c.GetProperty("words").GetString()!);
            yield return new TestCaseData(nc.Num, nc.Group, nc.AndWord, nc.Zero).Returns(nc.Words)
                .SetName($"NumberWords({nc.Num}, group {nc.Group}, andword '{nc.AndWord}')");
        }
    }

    [TestCaseSource(nameof(InflectCases))]
    public string NumberWordsAsInflect(string num, int group, string andWord, string zero) =>
        NumberWords.ToWords(num, group, andWord, zero);

    [Test]
    public void NumberWordsPastDecillionsAreRefused() =>
        Assert.Throws<InvalidInputException>(() => NumberWords.ToWords(new string('9', 40), andWord: ""));

    [TestCase("it costs $19.99", "it costs nineteen dollars, ninety-nine cents")]
    [TestCase("$1", "one dollar")]
    [TestCase("$0.01", "one cent")]
    [TestCase("$0", "zero dollars")]
    [TestCase("$1.50", "one dollar, fifty cents")]
    [TestCase("$1.2.3", "one point two.three dollars")]
    [TestCase("1,000,000 people", "one million people")]
    [TestCase("0.02", "zero point two")]
    [TestCase("3.14", "three point fourteen")]
    [TestCase("march 3rd", "march third")]
    [TestCase("the 21st century", "the twenty-first century")]
    [TestCase("in 1984", "in nineteen eighty-four")]
    [TestCase("in 1905", "in nineteen oh five")]
    [TestCase("in 2005", "in two thousand five")]
    [TestCase("in 2000", "in two thousand")]
    [TestCase("in 1900", "in nineteen hundred")]
    [TestCase("in 2024", "in twenty twenty-four")]
    [TestCase("3000 bc", "three thousand bc")]
    [TestCase("221b", "two hundred twenty-oneb")]
    [TestCase("12345", "twelve thousand, three hundred forty-five")]
    [TestCase("ps5", "psfive")]
    [TestCase("007", "seven")]
    public void NumbersAreReadOutAsEnglishPyDoes(string text, string expected) =>
        Assert.That(EnglishNormalizer.NormalizeNumbers(text), Is.EqualTo(expected));

    [TestCase("dr. smith", "doctor smith")]
    [TestCase("mr. and mrs. dursley", "mister and misess dursley")]
    [TestCase("st. louis, ft. worth", "saint louis, fort worth")]
    [TestCase("drs. who", "doctors who")]
    [TestCase("mister.", "mister.")]
    public void AbbreviationsAreExpanded(string text, string expected) =>
        Assert.That(EnglishNormalizer.ExpandAbbreviations(text), Is.EqualTo(expected));

    [TestCase("café", "cafe")]
    [TestCase("naïve Æsir straße", "naive AEsir strasse")]
    [TestCase("“quoted” — ‘single’ …", "\"quoted\" -- 'single' ...")]
    [TestCase("£5 €3", "PS5 EUR3")]
    [TestCase("Łódź Œuvre", "Lodz OEuvre")]
    [TestCase("中文😀", "")]
    public void TransliteratedAsUnidecode(string text, string expected) => Assert.That(VallE.Runtime.Text.Vallex.Unidecode.Fold(text), Is.EqualTo(expected));

    [TestCase("hello", "həˈloʊ")]
    [TestCase("quickly", "kˈwɪkli")]
    [TestCase("nineteen", "ˈnaɪnˈtin")]
    [TestCase("\"really?\"", "\"ˈrɪli?\"")]
    [TestCase("p.m.,", "p.m*.,")]
    [TestCase("-- a", " ə")]
    [TestCase("xyzzyq", "xyzzyq*")]
    [TestCase("kernel", "ˈkərnəl")]
    public void EngToIpaAsUpstream(string text, string expected) => Assert.That(EngToIpa.Convert(text), Is.EqualTo(expected));

    [TestCase("Hello, world!", "həˈloʊ, wəɹɫd!")]
    [TestCase("Well...", "wɛɫ…")]
    [TestCase("  Judge   Charles  ", "dʒʌdʒ tʃɑɹɫz")]
    public void EnglishG2PAsEnglishToIpa2(string text, string expected) =>
        Assert.That(new EnglishG2P().ToIpa(text), Is.EqualTo(expected));

    [Test]
    public void DictionaryKeepsTheFirstPronunciationAndDropsVariantMarkers()
    {
        Assert.That(CmuDictionary.Words.Count, Is.GreaterThan(120_000));
        Assert.That(CmuDictionary.TryGet("aaronson", out string p), Is.True);
        Assert.That(p, Is.EqualTo("eh1 r ah0 n s ah0 n"), "AARONSON before AARONSON(1)");
        Assert.That(CmuDictionary.TryGet("aaronson(1)", out _), Is.False);
    }
}

/// <summary>Start-up cost of the English G2P (docs/text.md quotes it): run by hand with --filter.</summary>
[Explicit("measurement, prints numbers")]
public class VallexStartupMeasurement
{
    [Test]
    public void DictionaryLoadTimeAndMemory()
    {
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        int count = CmuDictionary.Words.Count;
        double loadMs = sw.Elapsed.TotalMilliseconds;
        long after = GC.GetTotalMemory(forceFullCollection: true);
        sw.Restart();
        var t = VallE.Runtime.Text.Vallex.VallexTextFrontEnd.Tokenize("The quick brown fox jumps over the lazy dog.", "en");
        double firstMs = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        for (int i = 0; i < 100; i++) VallE.Runtime.Text.Vallex.VallexTextFrontEnd.Tokenize("The quick brown fox jumps over the lazy dog.", "en");
        double warmMs = sw.Elapsed.TotalMilliseconds / 100;
        TestContext.Out.WriteLine($"entries {count}, load {loadMs:F0} ms, retained {(after - before) / 1048576.0:F1} MiB, "
            + $"first sentence {firstMs:F1} ms, warm sentence {warmMs:F3} ms ({t.TokenIds.Length} tokens)");
        Assert.That(count, Is.GreaterThan(0));
    }
}
