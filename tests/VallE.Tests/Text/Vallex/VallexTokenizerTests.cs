using System.Text;
using VallE.Runtime.Text.Vallex;

namespace VallE.Tests.Text.Vallex;

/// <summary>The bpe_69 tokenizer, cje_cleaners' segments, languages and the G2P registry.</summary>
public class VallexTokenizerTests
{
    [Test]
    public void VocabularyIsBpe69()
    {
        Assert.That(VallexPhonemeTokenizer.VocabularySize, Is.EqualTo(70));
        Assert.That(VallexPhonemeTokenizer.IdOf(new Rune('!')), Is.EqualTo(5));
        Assert.That(VallexPhonemeTokenizer.IdOf(new Rune('_')), Is.EqualTo(16));
        Assert.That(VallexPhonemeTokenizer.IdOf(new Rune('ɫ')), Is.EqualTo(52));
        Assert.That(VallexPhonemeTokenizer.IdOf(new Rune('↓')), Is.EqualTo(69));
    }

    [TestCase('Z')]
    [TestCase('c')]
    [TestCase(':')]
    [TestCase('"')]
    [TestCase('ʌ')]
    public void CharactersOutsideTheVocabularyAreUnk(char c) =>
        Assert.That(VallexPhonemeTokenizer.IdOf(new Rune(c)), Is.EqualTo(0));

    [Test]
    public void EnglishWordsOutsideTheDictionaryGiveUnkTokens()
    {
        var t = VallexTextFrontEnd.Tokenize("codec", "en");
        Assert.That(t.Phonemes, Is.EqualTo("codec*."));
        Assert.That(t.TokenIds, Is.EqualTo(new[] { 0, 31, 20, 21, 0, 7, 10 }), "'c' is not in bpe_69");
        Assert.That(t.LanguageIds, Is.EqualTo(Enumerable.Repeat(2, 7)));
    }

    [Test]
    public void SpacesBecomeUnderscoresAndAFinalStopIsAdded()
    {
        var t = VallexTextFrontEnd.Tokenize("  the dog\n", "en");
        Assert.That(t.Phonemes, Is.EqualTo("ðə_dɔg."));
        Assert.That(t.TokenIds, Is.EqualTo(new[] { 44, 48, 16, 20, 47, 23, 10 }));
        Assert.That(t.Text, Is.EqualTo("  the dog\n"));
        Assert.That(t.Language, Is.EqualTo("en"));
    }

    [Test]
    public void MixTextOutsideTagsIsDroppedAndEachSegmentEndsInAStop()
    {
        var t = VallexTextFrontEnd.Tokenize("before [EN]the dog[EN] between [EN]Wow![EN] after", "mix");
        Assert.That(t.Phonemes, Is.EqualTo("ðə_dɔg.waʊ!"));
        Assert.That(t.LanguageIds, Has.All.EqualTo(2));
        Assert.That(t.TokenIds, Has.Length.EqualTo(t.Phonemes.Length));
    }

    [Test]
    public void MixWithoutTagsHasNothingToSay() =>
        Assert.Throws<InvalidInputException>(() => VallexTextFrontEnd.Tokenize("no tags here", "mix"));

    [TestCase("")]
    [TestCase("   ")]
    [TestCase("--")]
    public void EmptyTextIsRefused(string text) =>
        Assert.Throws<InvalidInputException>(() => VallexTextFrontEnd.Tokenize(text, "en"));

    [Test]
    public void UnknownLanguageIsRefusedByName()
    {
        var e = Assert.Throws<InvalidInputException>(() => VallexTextFrontEnd.Tokenize("hi", "fr"))!;
        Assert.That(e.Message, Does.Contain("'fr'"));
        e = Assert.Throws<InvalidInputException>(() => VallexG2PRegistry.Get("ko"))!;
        Assert.That(e.Message, Does.Contain("'ko'"));
    }

    [TestCase("zh", "[ZH]你好[ZH]", 0)]
    [TestCase("ja", "[JA]こんにちは[JA]", 1)]
    public void OtherLanguagesAreUsedWhenPresentAndNamedWhenAbsent(string language, string tagged, int id)
    {
        if (!VallexG2PRegistry.Available.Contains(language))
        {
            var e = Assert.Throws<InvalidInputException>(() => VallexTextFrontEnd.Tokenize(tagged + "[EN]hi[EN]", "mix"))!;
            Assert.That(e.Message, Does.Contain($"'{language}'"));
            return;
        }
        var t = VallexTextFrontEnd.Tokenize(tagged + "[EN]hi[EN]", "mix");
        Assert.That(t.LanguageIds[0], Is.EqualTo(id));
        Assert.That(t.LanguageIds[^1], Is.EqualTo(2));
        Assert.That(t.Phonemes, Does.EndWith("haɪ."));
        Assert.That(t.LanguageIds.Count(l => l == 2), Is.EqualTo("haɪ.".Length));
    }

    [Test]
    public void EnglishIsAlwaysAvailable()
    {
        Assert.That(VallexG2PRegistry.Available, Does.Contain("en"));
        Assert.That(VallexG2PRegistry.Get("en").Language, Is.EqualTo("en"));
        Assert.That(VallexG2PRegistry.Get("en"), Is.SameAs(VallexG2PRegistry.Get("en")));
    }

    [TestCase("Hello there", "en")]
    [TestCase("Café 123", "en")]
    [TestCase("你好，世界", "zh")]
    [TestCase("我喜欢 VALL-E", "zh")]
    [TestCase("こんにちは", "ja")]
    [TestCase("日本語のテキスト", "ja")]
    [TestCase("ｶﾀｶﾅ", "ja")]
    public void AutoDetectsByScript(string text, string expected) =>
        Assert.That(VallexTextFrontEnd.DetectLanguage(text), Is.EqualTo(expected));

    [Test]
    public void AutoUsesTheDetectedLanguage()
    {
        var t = VallexTextFrontEnd.Tokenize("Wow!", "auto");
        Assert.That(t.Language, Is.EqualTo("en"));
        Assert.That(t.Phonemes, Is.EqualTo("waʊ!"));
    }
}
