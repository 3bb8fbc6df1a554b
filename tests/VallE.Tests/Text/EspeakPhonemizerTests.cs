using VallE.Runtime.Text;

namespace VallE.Tests.Text;

/// <summary>
/// The real libespeak-ng behind lifeiteng's TextTokenizer. Expected token lists were produced by the upstream
/// pipeline itself (bootphon/phonemizer 3.3.0 + lifeiteng's to_list, espeak-ng 1.51); a random-text comparison
/// of ~2000 strings against it found no difference.
/// </summary>
public class EspeakPhonemizerTests
{
    private static EspeakPhonemizer EnUs => EspeakTestSupport.RequireEnUs();

    private static string Tokens(IReadOnlyList<string> phonemes) => string.Join(' ', phonemes);

    [TestCase("Hello, world!", "h ə l oʊ , _ w ɜː l d !")]
    [TestCase("3:45 p.m.", "θ ɹ iː : f oːɹ ɾ i _ f aɪ v _ p iː . ɛ m .")]
    [TestCase("\"Quoted\" text", "\" k w oʊ ɾ ᵻ d \" _ t ɛ k s t")]
    [TestCase("hello ,  world", "h ə l oʊ _ , _ _ w ɜː l d")]   // spaces inside a mark run become '_' tokens
    [TestCase("(hello)", "( h ə l oʊ )")]
    [TestCase("a—b", "eɪ — b iː")]
    [TestCase("naïve café", "n aɪ iː v _ k æ f eɪ")]
    [TestCase("½", "ɐ _ h æ f")]
    [TestCase("日本語", "tʃ aɪ n iː z l ɛ ɾ ɚ _ tʃ aɪ n iː z l ɛ ɾ ɚ _ tʃ aɪ n iː z l ɛ ɾ ɚ")]
    [TestCase("C3PO R2D2", "s iː _ θ ɹ iː _ p oʊ _ ɑːɹ _ t uː _ d iː _ t uː")]
    [TestCase("It's rock-n-roll", "ɪ t s _ ɹ ɑː k ɛ n ɹ oʊ l")]   // apostrophes and hyphens are stress marks to phonemizer
    [TestCase("?!", "? !")]                                     // punctuation only: the marks alone
    [TestCase("? !", "? _ !")]
    [TestCase("...", ". . .")]
    [TestCase("  padded\t", "p æ d ᵻ d")]
    public void MatchesUpstreamTokenizer(string text, string expected) =>
        Assert.That(Tokens(EnUs.Phonemize(text)), Is.EqualTo(expected));

    [Test]
    public void RawOutputIsPhonemizersString() =>
        Assert.That(EnUs.PhonemizeToString("Hello, world! It is 3:45 p.m."),
            Is.EqualTo("h|ə|l|oʊ,_w|ɜː|l|d!_ɪ|ɾ_ɪ|z_θ|ɹ|iː:f|oːɹ|ɾ|i_f|aɪ|v_p|iː.ɛ|m."));

    [Test]
    public void NewlinesAndTabsReadAsSpaces()
    {
        // Without punctuation, espeak reads line breaks as spaces (upstream gives the same tokens).
        Assert.That(EnUs.Phonemize("hello\nworld"), Is.EqualTo(EnUs.Phonemize("hello world")));
        Assert.That(EnUs.Phonemize("hello\n\nworld\tagain"), Is.EqualTo(EnUs.Phonemize("hello world again")));
        // Next to punctuation upstream's to_list asserts; we read the newline as a space.
        Assert.That(EnUs.Phonemize("Hello.\nWorld."), Is.EqualTo(EnUs.Phonemize("Hello. World.")));
        Assert.That(EnUs.Phonemize("Hello,\r\nworld"), Is.EqualTo(EnUs.Phonemize("Hello,  world")));
    }

    [TestCase("")]
    [TestCase("   ")]
    [TestCase("\n\t\u00a0")]
    public void EmptyTextIsAClearError(string text)
    {
        var phonemizer = EnUs;
        var e = Assert.Throws<InvalidInputException>(() => phonemizer.Phonemize(text));
        Assert.That(e!.Message, Does.Contain("empty"));
    }

    [Test]
    public void NulAndHugeTextsAreRefused()
    {
        var phonemizer = EnUs;
        Assert.That(Assert.Throws<InvalidInputException>(() => phonemizer.Phonemize("a\0b"))!.Message, Does.Contain("NUL"));
        string huge = new('a', EspeakPhonemizer.MaxTextLength + 1);
        Assert.That(Assert.Throws<InvalidInputException>(() => phonemizer.Phonemize(huge))!.Message, Does.Contain("too long"));
    }

    [Test]
    public void LongAndPathologicalTextsFinish()
    {
        string sentence = "The quick brown fox jumps over the lazy dog, and then it rests. ";
        string paragraph = string.Concat(Enumerable.Repeat(sentence, 20_000 / sentence.Length + 1))[..20_000];
        var phonemes = EnUs.Phonemize(paragraph);
        Assert.That(phonemes.Count, Is.GreaterThan(10_000));
        Assert.That(phonemes.Count(p => p == "."), Is.EqualTo(paragraph.Count(c => c == '.')));

        // Shapes that are quadratic for a backtracking regex or for list-popping restore code.
        Assert.That(Tokens(EnUs.Phonemize("hello" + new string(' ', 20_000) + "world")), Is.EqualTo("h ə l oʊ _ w ɜː l d"));
        Assert.That(EnUs.Phonemize(string.Concat(Enumerable.Repeat(", ", 5_000)) + "hi").Count(p => p == ","), Is.EqualTo(5_000));
        Assert.That(EnUs.Phonemize(new string('a', 20_000)), Is.Not.Empty);
    }

    [Test]
    public void UnknownLanguageIsAClearError()
    {
        EspeakTestSupport.RequireEspeak();
        var e = Assert.Throws<InvalidInputException>(() => new EspeakPhonemizer("xx-nope"));
        Assert.That(e!.Message, Does.Contain("'xx-nope'").And.Contain("not supported"));
        // phonemizer matches language codes exactly: a voice's file name is not a language code.
        Assert.Throws<InvalidInputException>(() => new EspeakPhonemizer("gmw/en-US"));
    }

    [Test]
    public void OtherLanguagesKeepSwitchFlagsAndSplitCombiningMarks()
    {
        var enUs = EnUs;
        EspeakPhonemizer fr;
        try { fr = new EspeakPhonemizer("fr-fr"); }
        catch (InvalidInputException e) { Assert.Ignore($"this espeak-ng has no fr-fr voice: {e.Message}"); return; }

        string english = Tokens(enUs.Phonemize("Hello, world!"));
        // "(en)...(fr)" language-switch flags are kept (keep-flags) and tokenised as ( en ) ... ( fr ).
        Assert.That(Tokens(fr.Phonemize("j'aime le football")), Is.EqualTo("ʒ ɛ m _ l ə _ ( en ) f ʊ t b ɔː l ( fr )"));
        // Python's \w excludes the combining tilde, so "ɔ̃" is two tokens upstream.
        Assert.That(Tokens(fr.Phonemize("Bonjour, le monde!")), Is.EqualTo("b ɔ \u0303 ʒ u ʁ , _ l ə _ m ɔ \u0303 d !"));
        // Switching voices back and forth in the one global espeak keeps each phonemizer's language.
        Assert.That(Tokens(enUs.Phonemize("Hello, world!")), Is.EqualTo(english));
    }

    [Test]
    public void ConcurrentCallsAreSerialisedAndGiveTheSameResults()
    {
        var phonemizer = EnUs;
        string[] texts =
        [
            "To get up and running quickly just follow the steps below.", "Hello, world! It's 3:45 p.m., isn't it?",
            "She sells seashells by the seashore.", "Mr. and Mrs. Dursley, of number four, Privet Drive.",
        ];
        var expected = texts.Select(t => Tokens(phonemizer.Phonemize(t))).ToArray();
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            // A separate instance per call too: instances share the one library.
            var p = i % 2 == 0 ? phonemizer : new EspeakPhonemizer();
            string got = Tokens(p.Phonemize(texts[i % texts.Length]));
            if (got != expected[i % texts.Length]) failures.Add($"{i}: {got}");
        });
        Assert.That(failures, Is.Empty);
    }

    [Test]
    public void MissingLibraryOrDataIsANativeDependencyError()
    {
        var e = Assert.Throws<NativeDependencyException>(() => new EspeakPhonemizer("en-us", libraryPath: "/nonexistent/libespeak-ng.so.1"));
        Assert.That(e!.Message, Does.Contain("/nonexistent/libespeak-ng.so.1").And.Contain("apt-get install libespeak-ng1"));
        var d = Assert.Throws<NativeDependencyException>(() => new EspeakPhonemizer("en-us", dataPath: "/nonexistent/espeak-ng-data"));
        Assert.That(d!.Message, Does.Contain("espeak-ng data not found"));
    }

    [Test]
    public void NamingTheDataFolderInUseAgainIsFine()
    {
        string data = EnUs.Info.DataPath;
        // espeak is initialised once per process; the same folder (or its parent) may be named again.
        Assert.That(new EspeakPhonemizer("en-us", dataPath: data).Phonemize("hi"), Is.Not.Empty);
        Assert.That(new EspeakPhonemizer("en-us", dataPath: Path.GetDirectoryName(data)).Phonemize("hi"), Is.Not.Empty);
        Assert.That(new EspeakPhonemizer("en-us", libraryPath: EnUs.Info.LibraryPath).Phonemize("hi"), Is.Not.Empty);
    }

    [Test]
    public void ReportsWhatWasLoaded()
    {
        var info = EnUs.Info;
        Assert.That(info.Version, Does.Match(@"^\d+\.\d+"));
        Assert.That(Directory.Exists(info.DataPath), Is.True, info.DataPath);
        Assert.That(EspeakPhonemizer.ListVoices().Select(v => v.Language), Does.Contain("en-us"));
    }
}
