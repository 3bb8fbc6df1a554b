using VallE.Runtime.Text;
using VallE.Tests.Support;

namespace VallE.Tests.Text;

/// <summary>Model inputs as lifeiteng's infer.py makes them (tokens of "prompt text", enroll_x_lens of the prompt).</summary>
public class TextFrontEndTests
{
    private static TextFrontEnd Create() => new(
        EspeakTestSupport.RequireEnUs(),
        SymbolTable.Load(TestPaths.RequireShared("text", "unique_text_tokens.k2symbols")));

    [Test]
    public void TokensOfPromptPlusTextAndEnrollLengthOfThePromptAlone()
    {
        var frontEnd = Create();
        var (tokens, enroll) = frontEnd.Tokenize("Go to her.", "Hello, world!");
        // Upstream: text_collater([tokenize_text(tok, "Go to her. Hello, world!")]) and the collater length of
        // tokenize_text(tok, "Go to her.") (bos and eos included), computed with phonemizer + the fixture table.
        Assert.That(tokens, Is.EqualTo(new long[] { 1, 58, 31, 13, 36, 52, 13, 22, 57, 8, 13, 22, 52, 28, 31, 7, 13, 40, 57, 28, 18, 3, 2 }));
        Assert.That(enroll, Is.EqualTo(11));
        // The NAR of prefix_mode 2/4 keeps text[:, :1] + text[:, enroll-1:]: <bos>, then from the prompt's end on.
        long[] prompt = frontEnd.Tokenize("Go to her.");
        Assert.That(tokens[..(enroll - 1)], Is.EqualTo(prompt[..^1]));
    }

    [Test]
    public void PhonemesAreKeptForDisplay()
    {
        var result = Create().Tokenize("  Go to her. ", " Hello!\n");
        Assert.That(result.Phonemes.Count, Is.EqualTo(result.Tokens.Length - 2));
        Assert.That(result.Phonemes[^1], Is.EqualTo("!"));
    }

    [TestCase("", "Hello", "prompt transcript is empty")]
    [TestCase("Go to her.", " \n ", "text to synthesise is empty")]
    public void EmptyInputsAreClearErrors(string prompt, string text, string message)
    {
        var frontEnd = Create();
        var e = Assert.Throws<InvalidInputException>(() => frontEnd.Tokenize(prompt, text));
        Assert.That(e!.Message, Does.Contain(message));
    }

    [Test]
    public void PhonemeOutsideTheTableNamesItAndTheText()
    {
        var frontEnd = Create();
        // A table that only knows "h": the first other phoneme of the text is refused.
        var symbols = SymbolTable.Parse("<eps> 0\nh 1\n", "tiny.k2symbols");
        var tiny = new TextFrontEnd(frontEnd.Phonemizer, symbols);
        var e = Assert.Throws<InvalidInputException>(() => tiny.Tokenize("Go to her.", "Hello"));
        Assert.That(e!.Message, Does.Contain("is not in the symbol table tiny.k2symbols").And.Contain("Go to her. Hello"));
    }
}
