using System.Text.Json;
using VallE.Tests.Support;

namespace VallE.Tests.Text.Vallex;

/// <summary><c>valle phonemize --frontend vallex</c>: the JSON contract (one object per text per line).</summary>
public class VallexPhonemizeCommandTests
{
    [Test]
    public void JsonIsOneObjectInTheFixtureLayout()
    {
        var r = CliRunner.Run("phonemize", "--frontend", "vallex", "--language", "en", "--json", "Wow!");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Is.EqualTo("{\"text\":\"Wow!\",\"phonemes\":\"waʊ!\",\"token_ids\":[37,18,58,5],\"language_ids\":[2,2,2,2]}"
            + Environment.NewLine));
    }

    [Test]
    public void EveryFixtureRecordThroughTheCli()
    {
        var records = VallexFixtureTests.Load("vallex-en.json", "en");
        var r = CliRunner.Run("phonemize", "--frontend", "vallex", "--language", "en", "--json", records[2].Text);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        Assert.That(doc.RootElement.GetProperty("text").GetString(), Is.EqualTo(records[2].Text));
        Assert.That(doc.RootElement.GetProperty("phonemes").GetString(), Is.EqualTo(records[2].Phonemes));
        Assert.That(doc.RootElement.GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(records[2].TokenIds));
        Assert.That(doc.RootElement.GetProperty("language_ids").EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(records[2].LanguageIds));
    }

    [Test]
    public void TextFilePrintsOneObjectPerLine()
    {
        using var dir = TestPaths.CreateTempDir();
        string file = dir.File("texts.txt");
        File.WriteAllText(file, "Wow!\n\nThe dog.\n");
        var r = CliRunner.Run("phonemize", "--frontend", "vallex", "--language", "auto", "--json", "--text-file", file);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        string[] lines = r.Out.TrimEnd('\n').Split('\n');
        Assert.That(lines, Has.Length.EqualTo(2));
        using var second = JsonDocument.Parse(lines[1]);
        Assert.That(second.RootElement.GetProperty("phonemes").GetString(), Is.EqualTo("ðə_dɔg."));
    }

    [Test]
    public void HumanOutputIsThreeLinesPerText()
    {
        var r = CliRunner.Run("phonemize", "--frontend", "vallex", "-l", "en", "Wow!");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries),
            Is.EqualTo(new[] { "waʊ!", "37 18 58 5", "2 2 2 2" }));
    }

    [TestCase("--language", "fr")]
    [TestCase("--symbols", "x")]
    public void BadVallexOptionsAreUsageErrors(string option, string value)
    {
        var r = CliRunner.Run("phonemize", "--frontend", "vallex", option, value, "hi");
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
    }

    [Test]
    public void UnknownFrontEndIsAUsageError()
    {
        var r = CliRunner.Run("phonemize", "--frontend", "festival", "hi");
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
    }

    [Test]
    public void NothingToPronounceIsAnInputError()
    {
        var r = CliRunner.Run("phonemize", "--frontend", "vallex", "-l", "mix", "--json", "no tags");
        Assert.That(r.ExitCode, Is.Not.EqualTo(0), r.ToString());
        Assert.That(r.Out, Is.Empty);
    }
}
