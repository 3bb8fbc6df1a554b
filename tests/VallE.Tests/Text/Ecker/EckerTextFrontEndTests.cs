using System.Text.Json;
using VallE.Runtime.Text.Ecker;
using VallE.Tests.Support;

namespace VallE.Tests.Text.Ecker;

/// <summary>
/// e-c-k-e-r/vall-e's front end. <c>ecker-frontend.json</c> (beside this file) holds our expectations, generated with
/// VallE.NET's espeak binding (libespeak-ng 1.51) and checked against an independent Python re-implementation of
/// tokenizers' BPE merge queue over upstream's tokenizer.json (upstream's own Python could not run: no phonemizer).
/// Upstream's tokenizer.json (AGPL-3.0, e-c-k-e-r/vall-e 73833ee data/tokenizer.json) is not redistributed here: the
/// tests that need it read $VALLE_ECKER_TOKENIZER and skip with that hint when it is not set.
/// </summary>
public class EckerTextFrontEndTests
{
    private static string TokenizerPath
    {
        get
        {
            string? path = Environment.GetEnvironmentVariable("VALLE_ECKER_TOKENIZER");
            if (string.IsNullOrEmpty(path) || !File.Exists(path))
                Assert.Ignore("upstream's tokenizer.json is not redistributed (AGPL-3.0): set VALLE_ECKER_TOKENIZER to e-c-k-e-r/vall-e's data/tokenizer.json (commit 73833ee) to run this test");
            return path!;
        }
    }
    private static string FixturePath => Path.Combine(TestPaths.RepoRoot, "tests", "VallE.Tests", "Text", "Ecker", "ecker-frontend.json");

    // A small tokenizer of our own with upstream's quirks: a repeated key, two tokens on one id, id-keyed merges.
    private const string Tiny = """
    {"version":"1.0","added_tokens":[{"id":0,"content":"<unk>"},{"id":1,"content":"<bos>"},{"id":2,"content":"</eos>"}],
     "normalizer":null,"pre_tokenizer":null,
     "post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<bos>","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"<eos>","type_id":0}}],
       "special_tokens":{"<bos>":{"id":"<bos>","ids":[1],"tokens":["<bos>"]},"<eos>":{"id":"<eos>","ids":[2],"tokens":["<eos>"]}}},
     "model":{"type":"BPE","dropout":null,"unk_token":"<unk>","continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":false,"byte_fallback":false,
       "vocab":{"<unk>":0,"<bos>":1,"</eos>":2," ":3,"a":4,"ä":4,"b":5,"c":6,"c":6,"ab":7,"bc":8,"abc":9},
       "merges":["b c","a b","a bc"]}}
    """;

    [Test]
    public void TinyBpeFollowsTokenizersSemantics()
    {
        var t = EckerBpeTokenizer.Parse(Tiny);
        Assert.That(t.Encode("ab"), Is.EqualTo(new[] { 1, 7, 2 }));
        Assert.That(t.Encode("abc"), Is.EqualTo(new[] { 1, 9, 2 }), "b c (rank 0) first, then a bc");
        Assert.That(t.Encode("äb"), Is.EqualTo(new[] { 1, 7, 2 }), "merges are keyed by ids: ä is a");
        Assert.That(t.Encode("a x"), Is.EqualTo(new[] { 1, 4, 3, 0, 2 }), "unknown characters are <unk>, one each");
        Assert.That(t.Encode("xx"), Is.EqualTo(new[] { 1, 0, 0, 2 }), "fuse_unk is false");
        Assert.That(t.Encode("a<bos>b"), Is.EqualTo(new[] { 1, 4, 1, 5, 2 }), "added tokens are cut out first");
        Assert.That(t.Encode(""), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(t.Encode("ab", addSpecialTokens: false), Is.EqualTo(new[] { 7 }));
    }

    [Test]
    public void RefusesFeaturesItLacks()
    {
        Assert.Throws<InvalidInputException>(() => EckerBpeTokenizer.Parse(Tiny.Replace("\"normalizer\":null", "\"normalizer\":{\"type\":\"NFD\"}")));
        Assert.Throws<InvalidInputException>(() => EckerBpeTokenizer.Parse(Tiny.Replace("\"a bc\"", "\"a c\"")));
    }

    [Test]
    public void UpstreamTokenizerSpecialsAndMerges()
    {
        var t = EckerBpeTokenizer.Load(TokenizerPath);
        Assert.That(t.Prefix, Is.EqualTo(new[] { 1 }));
        Assert.That(t.Suffix, Is.EqualTo(new[] { 2 }));
        Assert.That(t.Encode("äɪ"), Is.EqualTo(new[] { 1, 85, 2 }), "ä shares a's id, so a ɪ merges it");
        Assert.That(t.Encode("ˈɔːl"), Is.EqualTo(new[] { 1, 149, 2 }));
        Assert.That(t.Encode("həlˈoʊ"), Is.EqualTo(new[] { 1, 22, 111, 100, 2 }));
    }

    [Test]
    public void LanguagesAndCoercion()
    {
        Assert.That(EckerTextFrontEnd.Languages, Is.EqualTo(new[] { "en", "ja", "de", "fr", "zh", "ko" }));
        Assert.That(EckerTextFrontEnd.LanguageId("fr"), Is.EqualTo(3));
        Assert.That(EckerTextFrontEnd.LanguageId("es"), Is.EqualTo(-1));
        Assert.That(EckerTextFrontEnd.CoerceLanguage("en"), Is.EqualTo("en-us"));
        Assert.That(EckerTextFrontEnd.CoerceLanguage("fr"), Is.EqualTo("fr-fr"));
        Assert.That(EckerTextFrontEnd.CoerceLanguage("zh"), Is.EqualTo("cmn-latn-pinyin"));
        Assert.That(EckerTextFrontEnd.CoerceLanguage("de"), Is.EqualTo("de"));
        Assert.That(EckerTextFrontEnd.RemapTones("a1b2c3d4e5"), Is.EqualTo("aˇbˉcˊdˋe_"));
    }

    [Test]
    public void MatchesFixture()
    {
        EspeakTestSupport.RequireEspeak();
        var fe = EckerTextFrontEnd.Load(TokenizerPath);
        using var doc = JsonDocument.Parse(File.ReadAllText(FixturePath));
        int n = 0;
        foreach (var c in doc.RootElement.EnumerateArray())
        {
            string text = c.GetProperty("text").GetString()!, language = c.GetProperty("language").GetString()!;
            var r = fe.Tokenize(text, language);
            Assert.That(r.Phonemes, Is.EqualTo(c.GetProperty("phonemes").GetString()), $"{language}: {text}");
            Assert.That(r.TokenIds, Is.EqualTo(c.GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray()), $"{language}: {text}");
            Assert.That(r.LanguageId, Is.EqualTo(EckerTextFrontEnd.LanguageId(language)));
            n++;
        }
        Assert.That(n, Is.GreaterThanOrEqualTo(8));
    }

    [Test]
    public void RefusesUnknownLanguages()
    {
        EspeakTestSupport.RequireEspeak();
        var fe = EckerTextFrontEnd.Load(TokenizerPath);
        Assert.Throws<InvalidInputException>(() => fe.Tokenize("hola", "es"));
    }

    [Test]
    public void PhonemizeCommandEckerJson()
    {
        EspeakTestSupport.RequireEspeak();
        var r = CliRunner.Run("phonemize", "--frontend", "ecker", "--tokenizer", TokenizerPath, "--language", "en", "--json", "Hello, world!");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        Assert.That(doc.RootElement.GetProperty("phonemes").GetString(), Is.EqualTo("həlˈoʊ, wˈɜːld!"));
        Assert.That(doc.RootElement.GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(new[] { 1, 22, 111, 100, 9, 4, 37, 115, 169, 5, 2 }));
        Assert.That(CliRunner.Run("phonemize", "--frontend", "ecker", "--tokenizer", TokenizerPath, "--language", "es", "x").ExitCode, Is.EqualTo(2));
        Assert.That(CliRunner.Run("phonemize", "--tokenizer", TokenizerPath, "x").ExitCode, Is.EqualTo(2));
    }
}
