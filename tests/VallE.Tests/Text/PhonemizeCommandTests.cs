using System.Diagnostics;
using System.Text.Json;
using VallE.Tests.Support;

namespace VallE.Tests.Text;

/// <summary><c>valle phonemize</c>: output formats and exit codes.</summary>
public class PhonemizeCommandTests
{
    private static string Symbols => TestPaths.RequireShared("text", "unique_text_tokens.k2symbols");

    [Test]
    public void PrintsPhonemesAndIdsPerText()
    {
        EspeakTestSupport.RequireEspeak();
        var r = CliRunner.Run("phonemize", "--symbols", Symbols, "Hello, world!", "Wow!");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        string[] lines = r.Out.TrimEnd('\n').Split('\n');
        Assert.That(lines, Is.EqualTo(new[]
        {
            "h ə l oʊ , _ w ɜː l d !", "1 22 52 28 31 7 13 40 57 28 18 3 2",
            "w aʊ !", lines[3],
        }));
        Assert.That(lines[3], Does.StartWith("1 ").And.EndWith(" 2"));
    }

    [Test]
    public void WithoutSymbolsPrintsPhonemesOnly()
    {
        EspeakTestSupport.RequireEspeak();
        var r = CliRunner.Run("phonemize", "Hello, world!");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Is.EqualTo("h ə l oʊ , _ w ɜː l d !" + Environment.NewLine));
    }

    [Test]
    public void JsonIsAnArrayInTheFixtureLayout()
    {
        EspeakTestSupport.RequireEspeak();
        var r = CliRunner.Run("phonemize", "--json", "--symbols", Symbols, "Hello, world!", "Wow!");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Contain("\"ə\""), "IPA is printed as is, not escaped");
        using var doc = JsonDocument.Parse(r.Out);
        var items = doc.RootElement.EnumerateArray().ToList();
        Assert.That(items, Has.Count.EqualTo(2));
        Assert.That(items[0].GetProperty("text").GetString(), Is.EqualTo("Hello, world!"));
        Assert.That(items[0].GetProperty("phonemes").GetArrayLength(), Is.EqualTo(11));
        Assert.That(items[0].GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt64()),
            Is.EqualTo(new long[] { 1, 22, 52, 28, 31, 7, 13, 40, 57, 28, 18, 3, 2 }));

        r = CliRunner.Run("phonemize", "--json", "Wow!");
        using var plain = JsonDocument.Parse(r.Out);
        Assert.That(plain.RootElement[0].TryGetProperty("token_ids", out _), Is.False);
    }

    [Test]
    public void NoTextIsAUsageError()
    {
        var r = CliRunner.Run("phonemize", "--symbols", "x");
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
    }

    [Test]
    public void BadInputsExitWithThree()
    {
        EspeakTestSupport.RequireEspeak();
        var unknownPhoneme = CliRunner.Run("phonemize", "--language", "fr-fr", "--symbols", Symbols, "Bonjour le monde");
        Assert.That(unknownPhoneme.ExitCode, Is.EqualTo(3), unknownPhoneme.ToString());
        Assert.That(unknownPhoneme.Err, Does.Contain("not in the symbol table").And.Contain("Bonjour le monde"));

        var language = CliRunner.Run("phonemize", "--language", "xx-nope", "hi");
        Assert.That(language.ExitCode, Is.EqualTo(3), language.ToString());
        Assert.That(language.Err, Does.Contain("'xx-nope'"));

        var empty = CliRunner.Run("phonemize", "  ");
        Assert.That(empty.ExitCode, Is.EqualTo(3), empty.ToString());

        var symbols = CliRunner.Run("phonemize", "--symbols", "/nonexistent.k2symbols", "hi");
        Assert.That(symbols.ExitCode, Is.EqualTo(3), symbols.ToString());

        var lib = CliRunner.Run("phonemize", "--espeak-lib", "/nonexistent/libespeak-ng.so.1", "hi");
        Assert.That(lib.ExitCode, Is.EqualTo(3), lib.ToString());
        Assert.That(lib.Err, Does.Contain("apt-get install libespeak-ng1"));
    }

    /// <summary>In a fresh process (espeak is loaded once per process): no library at all means exit 3 and a hint.</summary>
    [Test]
    public void MissingLibraryInAFreshProcessExitsWithThree()
    {
        string valle = Path.Combine(AppContext.BaseDirectory, "valle.dll");
        if (!File.Exists(valle)) Assert.Ignore($"{valle} is not built beside the tests");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in new[] { valle, "phonemize", "hi" }) start.ArgumentList.Add(a);
        start.Environment["VALLE_ESPEAK_LIB"] = "/nonexistent/libespeak-ng.so.1";
        using var process = Process.Start(start)!;
        string err = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        Assert.That(process.WaitForExit(60_000), Is.True);
        Assert.That(process.ExitCode, Is.EqualTo(3), err);
        Assert.That(err, Does.StartWith("valle: error: libespeak-ng not found at /nonexistent/libespeak-ng.so.1").And.Contain("VALLE_ESPEAK_LIB"));
    }
}
