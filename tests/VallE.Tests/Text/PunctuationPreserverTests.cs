using System.Text.RegularExpressions;
using VallE.Runtime.Text;
using static VallE.Runtime.Text.PunctuationPreserver;

namespace VallE.Tests.Text;

/// <summary>phonemizer's Punctuation.preserve / restore (default marks, strip=True), without espeak.</summary>
public class PunctuationPreserverTests
{
    [Test]
    public void SplitsAtMarkRunsWithTheirSpaces()
    {
        var (chunks, marks) = Preserve("Hello, world! It's 3:45 p.m., isn't it?");
        Assert.That(chunks, Is.EqualTo(new[] { "Hello", "world", "It's 3", "45 p", "m", "isn't it" }));
        Assert.That(marks, Is.EqualTo(new[]
        {
            new Mark(", ", Position.Inside), new Mark("! ", Position.Inside), new Mark(":", Position.Inside),
            new Mark(".", Position.Inside), new Mark("., ", Position.Inside), new Mark("?", Position.End),
        }));
    }

    [Test]
    public void BeginEndAndAlone()
    {
        var (chunks, marks) = Preserve("(hello)");
        Assert.That(chunks, Is.EqualTo(new[] { "hello" }));
        Assert.That(marks, Is.EqualTo(new[] { new Mark("(", Position.Begin), new Mark(")", Position.End) }));

        (chunks, marks) = Preserve("? !");
        Assert.That(chunks, Is.Empty);
        Assert.That(marks, Is.EqualTo(new[] { new Mark("? !", Position.Alone) }));

        (chunks, marks) = Preserve("no marks here");
        Assert.That(chunks, Is.EqualTo(new[] { "no marks here" }));
        Assert.That(marks, Is.Empty);
    }

    [Test]
    public void RestoresMarksTurningSpacesIntoWordSeparators()
    {
        var marks = new List<Mark> { new(", ", Position.Inside), new("!", Position.End) };
        Assert.That(Restore(["h|ə|l|oʊ", "w|ɜː|l|d"], marks), Is.EqualTo(new[] { "h|ə|l|oʊ,_w|ɜː|l|d!" }));

        marks = [new("\"", Position.Begin), new("\" ", Position.Inside)];
        Assert.That(Restore(["k|w|oʊ|ɾ|ᵻ|d", "t|ɛ|k|s|t"], marks), Is.EqualTo(new[] { "\"k|w|oʊ|ɾ|ᵻ|d\"_t|ɛ|k|s|t" }));

        Assert.That(Restore([], [new Mark("? !", Position.Alone)]), Is.EqualTo(new[] { "?_!" }));
        Assert.That(Restore(["a"], []), Is.EqualTo(new[] { "a" }));
        Assert.That(Restore([], []), Is.Empty);
        // An Inside mark with no chunk after it (a piece espeak dropped) is appended to the last one.
        Assert.That(Restore(["a"], [new Mark(", ", Position.Inside)]), Is.EqualTo(new[] { "a,_" }));
        // A trailing word separator on the chunk is dropped before a mark is attached.
        Assert.That(Restore(["a_", "b"], [new Mark(". ", Position.Inside)]), Is.EqualTo(new[] { "a._b" }));
    }

    /// <summary>The hand-written scan finds exactly what phonemizer's regex (\s*[marks]+\s*)+ finds.</summary>
    [Test]
    public void RunScanEqualsPhonemizersRegexOnRandomText()
    {
        const string space = @"[\t-\r\x1c-\x1f\x85\p{Z}]"; // Python's \s
        var regex = new Regex($"(?:{space}*[{Regex.Escape(DefaultMarks).Replace("]", @"\]")}]+{space}*)+");
        string alphabet = "ab ,.!?;:\"()—…«»“”{}[]\n\t\u00a0x\x1c";
        var random = new Random(1234);
        for (int n = 0; n < 3000; n++)
        {
            var chars = new char[random.Next(0, 24)];
            for (int i = 0; i < chars.Length; i++) chars[i] = alphabet[random.Next(alphabet.Length)];
            string s = new(chars);
            var expected = regex.Matches(s).Select(m => (m.Index, m.Length)).ToList();
            Assert.That(FindRuns(s), Is.EqualTo(expected), $"'{Regex.Escape(s)}'");
        }
    }
}
