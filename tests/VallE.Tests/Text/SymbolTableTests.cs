using VallE.Runtime.Text;
using VallE.Tests.Support;

namespace VallE.Tests.Text;

public class SymbolTableTests
{
    [Test]
    public void NumbersSpecialsThenSortedSymbolsIncludingEps()
    {
        var table = SymbolTable.Parse("<eps> 0\nb 1\n! 2\na 3\nɐ 4\n", "t");
        // TextTokenCollater: ['<pad>', '<bos>', '<eos>'] + sorted(['<eps>', 'b', '!', 'a', 'ɐ'])
        Assert.That(table.Tokens, Is.EqualTo(new[] { "<pad>", "<bos>", "<eos>", "!", "<eps>", "a", "b", "ɐ" }));
        Assert.That((table.PadId, table.BosId, table.EosId), Is.EqualTo((0, 1, 2)));
        Assert.That(table.Encode(["a", "!", "ɐ"], addBosEos: true), Is.EqualTo(new long[] { 1, 5, 3, 7, 2 }));
        Assert.That(table.Encode(["b"], addBosEos: false), Is.EqualTo(new long[] { 6 }));
        Assert.That(table.Count, Is.EqualTo(8));
    }

    [Test]
    public void FileIdsAreIgnoredAndEpsIsAddedWhenIdZeroIsMissing()
    {
        var table = SymbolTable.Parse("z 7\r\n\n  y\t9  \n", "t");
        Assert.That(table.Tokens, Is.EqualTo(new[] { "<pad>", "<bos>", "<eos>", "<eps>", "y", "z" }));
    }

    [Test]
    public void SpecialRepeatedInTableTakesItsLaterIndexLikeThePythonDict()
    {
        // {t: i for i, t in enumerate(['<pad>', '<bos>', '<eos>', '<bos>', '<eps>', 'a'])}['<bos>'] == 3
        var table = SymbolTable.Parse("<eps> 0\n<bos> 1\na 2\n", "t");
        Assert.That(table.BosId, Is.EqualTo(3));
        Assert.That(table.Encode(["a"], addBosEos: true), Is.EqualTo(new long[] { 3, 5, 2 }));
    }

    [TestCase("a 1 2\n", "expected 'symbol id'")]
    [TestCase("a x\n", "not a non-negative integer")]
    [TestCase("a -1\n", "not a non-negative integer")]
    [TestCase("a 1\na 2\n", "duplicated symbol 'a'")]
    [TestCase("a 1\nb 1\n", "duplicated id 1")]
    [TestCase(" \n\n", "empty")]
    public void MalformedTablesAreInvalidInput(string text, string message)
    {
        var e = Assert.Throws<InvalidInputException>(() => SymbolTable.Parse(text, "t"));
        Assert.That(e!.Message, Does.Contain(message));
    }

    [Test]
    public void UnknownPhonemeNamesItAndTheText()
    {
        var table = SymbolTable.Parse("<eps> 0\na 1\n", "table.k2symbols");
        var e = Assert.Throws<InvalidInputException>(() => table.Encode(["a", "ɔ"], true, "some text"));
        Assert.That(e!.Message, Does.Contain("'ɔ'").And.Contain("U+0254").And.Contain("some text").And.Contain("table.k2symbols"));
    }

    [Test]
    public void MissingFileIsInvalidInput()
    {
        using var dir = TestPaths.CreateTempDir();
        Assert.Throws<InvalidInputException>(() => SymbolTable.Load(dir.File("none.k2symbols")));
        File.WriteAllBytes(dir.File("bad.k2symbols"), [0x61, 0x20, 0x31, 0x0a, 0xff, 0xfe, 0x20, 0x32]);
        Assert.Throws<InvalidInputException>(() => SymbolTable.Load(dir.File("bad.k2symbols")));
    }

    [Test]
    public void SharedTableHasTheUpstreamLayout()
    {
        var table = SymbolTable.Load(TestPaths.RequireShared("text", "unique_text_tokens.k2symbols"));
        Assert.That(table.Tokens.Take(3), Is.EqualTo(new[] { "<pad>", "<bos>", "<eos>" }));
        Assert.That(table.TryGetId("_", out int underscore) && underscore > 2, Is.True);
        Assert.That(table.Contains("<eps>"), Is.True);
    }
}
