using VallE.Runtime.Text;

namespace VallE.Tests.Text;

public class SentenceSplitterTests
{
    private static IReadOnlyList<string> Split(string text, int max = SentenceSplitter.DefaultMaxChars) =>
        SentenceSplitter.Split(text, max);

    [Test]
    public void SplitsAtSentenceEnds() =>
        Assert.That(Split("Hello world. How are you? I'm fine! Thanks."),
            Is.EqualTo(new[] { "Hello world.", "How are you?", "I'm fine!", "Thanks." }));

    [TestCase("Mr. Smith met Dr. Jones and Mrs. Brown at St. Mary's.")]
    [TestCase("Use a tool, e.g. a hammer, i.e. something heavy.")]
    [TestCase("We meet at 3 p.m. tomorrow and leave at 10 a.m. sharp.")]
    [TestCase("It costs $3.50, or 3.5 dollars, at 3:45 today.")]
    [TestCase("See Fig. 3 and No. 5 of vol. 2 for details.")]
    [TestCase("J. K. Rowling wrote it.")]
    [TestCase("\"Really?\" he asked, raising an eyebrow.")]
    [TestCase("Well... I suppose that could work.")]
    [TestCase("Wait… what happened?")]
    [TestCase("The approx. cost is high.")]
    public void KeepsAbbreviationsDecimalsAndQuotesTogether(string text) =>
        Assert.That(Split(text), Is.EqualTo(new[] { text }));

    [Test]
    public void AmbiguousAbbreviationsEndASentenceBeforeACapital()
    {
        Assert.That(Split("The meeting is at 3 p.m. Please be on time."),
            Is.EqualTo(new[] { "The meeting is at 3 p.m.", "Please be on time." }));
        Assert.That(Split("He lives in the U.S. His sister does too."),
            Is.EqualTo(new[] { "He lives in the U.S.", "His sister does too." }));
        Assert.That(Split("I said no. Then I left."), Is.EqualTo(new[] { "I said no.", "Then I left." }));
        Assert.That(Split("So did I. Then we left."), Is.EqualTo(new[] { "So did I.", "Then we left." }));
    }

    [Test]
    public void QuotesAndBracketsAfterTheEndStayWithTheSentence() =>
        Assert.That(Split("He said \"stop.\" Then he left (quietly.) \"Why?\" she asked. Done!"),
            Is.EqualTo(new[] { "He said \"stop.\"", "Then he left (quietly.)", "\"Why?\" she asked.", "Done!" }));

    [Test]
    public void CjkFullStopsSplitWithoutSpaces()
    {
        Assert.That(Split("你好。世界！再见？好的"), Is.EqualTo(new[] { "你好。", "世界！", "再见？", "好的" }));
        Assert.That(Split("「こんにちは。」と言った。"), Is.EqualTo(new[] { "「こんにちは。」", "と言った。" }));
    }

    [Test]
    public void WhitespaceIsCollapsedAndBlankLinesEndSentences()
    {
        Assert.That(Split("First line\nwraps here.\r\n\r\nNew paragraph without a stop\n\nAnother one"),
            Is.EqualTo(new[] { "First line wraps here.", "New paragraph without a stop", "Another one" }));
        Assert.That(Split("a\r\nb\tc\u00a0d"), Is.EqualTo(new[] { "a b c d" }));
    }

    [TestCase("")]
    [TestCase("   \n\t ")]
    public void EmptyTextGivesNoSentences(string text) => Assert.That(Split(text), Is.Empty);

    [Test]
    public void PunctuationOnlyPiecesJoinANeighbour()
    {
        Assert.That(Split("Hello! !! ?"), Is.EqualTo(new[] { "Hello! !! ?" }));
        Assert.That(Split("... Hello."), Is.EqualTo(new[] { "... Hello." }));
        Assert.That(Split("?! ..."), Is.EqualTo(new[] { "?! ..." }));
    }

    [Test]
    public void LongSentencesAreCutAtClauseMarksThenSpacesThenAnywhere()
    {
        string clause = "this clause goes on for a while, ";
        string longSentence = string.Concat(Enumerable.Repeat(clause, 20)).TrimEnd(' ', ',') + ".";
        var pieces = Split(longSentence, 100);
        Assert.That(pieces, Has.All.Length.LessThanOrEqualTo(100));
        Assert.That(pieces.Take(pieces.Count - 1), Has.All.EndsWith(","), "cut after commas");
        Assert.That(string.Join(" ", pieces), Is.EqualTo(longSentence));

        string words = string.Join(" ", Enumerable.Repeat("word", 100)); // no punctuation at all
        pieces = Split(words, 64);
        Assert.That(pieces, Has.All.Length.LessThanOrEqualTo(64));
        Assert.That(string.Join(" ", pieces), Is.EqualTo(words));

        string giant = string.Concat(Enumerable.Repeat("ab😀", 100)); // one 400-unit "word" with surrogate pairs
        pieces = Split(giant, 50);
        Assert.That(pieces, Has.All.Length.LessThanOrEqualTo(50));
        Assert.That(string.Concat(pieces), Is.EqualTo(giant));
        Assert.That(pieces.Any(p => char.IsHighSurrogate(p[^1]) || char.IsLowSurrogate(p[0])), Is.False);
    }

    [Test]
    public void RandomTextNeverLosesCharactersOrGivesEmptyPieces()
    {
        const string alphabet = "abc DEF xyz 12.5 Mr. e.g. ... ! ? , ; \n\n \" ) 。！ 😀 ";
        var random = new Random(42);
        for (int n = 0; n < 500; n++)
        {
            var text = new System.Text.StringBuilder();
            for (int i = random.Next(0, 60); i > 0; i--)
            {
                int start = random.Next(alphabet.Length - 3);
                text.Append(alphabet, start, random.Next(1, 4));
            }
            string s = text.ToString();
            if (s.Length > 0 && char.IsLowSurrogate(s[0])) s = s[1..];
            var pieces = Split(s, 24);
            Assert.That(pieces, Has.None.Empty, s);
            Assert.That(pieces, Has.All.Length.LessThanOrEqualTo(24), s);
            string squeezed(string x) => new(x.Where(c => !PythonText.IsSpace(c)).ToArray());
            Assert.That(squeezed(string.Concat(pieces)), Is.EqualTo(squeezed(s)), s);
        }
    }

    [Test]
    public void RejectsATinyCap() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => SentenceSplitter.Split("text", 3));
}
