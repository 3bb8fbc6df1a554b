using System.Text.Json;
using VallE.Runtime.Text;
using VallE.Tests.Support;

namespace VallE.Tests.Text;

/// <summary>
/// Acceptance: every sentence of ../shared/fixtures/text/phonemes-en-us.json (made by lifeiteng's TextTokenizer
/// and TextTokenCollater with espeak-ng 1.51) gives exactly the same phonemes and token ids.
/// </summary>
public class PhonemizerFixtureTests
{
    private sealed record Entry(string Text, string[] Phonemes, long[] TokenIds);

    private static List<Entry> LoadFixture()
    {
        string path = TestPaths.RequireShared("text", "phonemes-en-us.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.EnumerateArray().Select(e => new Entry(
            e.GetProperty("text").GetString()!,
            e.GetProperty("phonemes").EnumerateArray().Select(p => p.GetString()!).ToArray(),
            e.GetProperty("token_ids").EnumerateArray().Select(p => p.GetInt64()).ToArray())).ToList();
    }

    [Test]
    public void EverySentenceMatchesUpstreamPhonemesAndIds()
    {
        var fixture = LoadFixture();
        var symbols = SymbolTable.Load(TestPaths.RequireShared("text", "unique_text_tokens.k2symbols"));
        var phonemizer = EspeakTestSupport.RequireEnUs();
        Assert.That(fixture, Has.Count.GreaterThan(0));
        Assert.Multiple(() =>
        {
            foreach (var entry in fixture)
            {
                var phonemes = phonemizer.Phonemize(entry.Text);
                Assert.That(phonemes, Is.EqualTo(entry.Phonemes), entry.Text);
                Assert.That(symbols.Encode(phonemes, addBosEos: true, entry.Text), Is.EqualTo(entry.TokenIds), entry.Text);
            }
        });
    }

    [Test]
    public void SymbolTableReproducesFixtureIdsWithoutEspeak()
    {
        var fixture = LoadFixture();
        var symbols = SymbolTable.Load(TestPaths.RequireShared("text", "unique_text_tokens.k2symbols"));
        foreach (var entry in fixture)
            Assert.That(symbols.Encode(entry.Phonemes, addBosEos: true, entry.Text), Is.EqualTo(entry.TokenIds), entry.Text);
    }
}
