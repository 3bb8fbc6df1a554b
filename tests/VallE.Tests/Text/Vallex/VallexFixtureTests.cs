using System.Text;
using System.Text.Json;
using VallE.Runtime.Text.Vallex;
using VallE.Tests.Support;

namespace VallE.Tests.Text.Vallex;

/// <summary>
/// Acceptance: every record of ../shared/fixtures/text/vallex-en.json (VALL-E X's own g2p and bpe_69 tokenizer)
/// gives exactly the same phonemes, token ids and language ids. A failure lists every mismatching record.
/// </summary>
public class VallexFixtureTests
{
    internal sealed record Record(string Text, string Language, string Phonemes, int[] TokenIds, int[] LanguageIds);

    internal static List<Record> Load(string file, string defaultLanguage)
    {
        string path = TestPaths.RequireShared("text", file);
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.EnumerateArray().Select(e => new Record(
            e.GetProperty("text").GetString()!,
            e.TryGetProperty("language", out var l) ? l.GetString()! : defaultLanguage,
            e.GetProperty("phonemes").GetString()!,
            e.GetProperty("token_ids").EnumerateArray().Select(p => p.GetInt32()).ToArray(),
            e.GetProperty("language_ids").EnumerateArray().Select(p => p.GetInt32()).ToArray())).ToList();
    }

    /// <summary>Checks every record; returns a report of the mismatches (empty when all match).</summary>
    internal static string Compare(List<Record> records)
    {
        var report = new StringBuilder();
        int matched = 0;
        foreach (var r in records)
        {
            string problem;
            try
            {
                VallexTokens t = VallexTextFrontEnd.Tokenize(r.Text, r.Language);
                problem = t.Phonemes != r.Phonemes ? $"phonemes\n    expected {r.Phonemes}\n    actual   {t.Phonemes}"
                    : !t.TokenIds.SequenceEqual(r.TokenIds) ? $"token_ids\n    expected {string.Join(' ', r.TokenIds)}\n    actual   {string.Join(' ', t.TokenIds)}"
                    : !t.LanguageIds.SequenceEqual(r.LanguageIds) ? $"language_ids\n    expected {string.Join(' ', r.LanguageIds)}\n    actual   {string.Join(' ', t.LanguageIds)}"
                    : "";
            }
            catch (Exception e) when (e is VallE.ValleException or InvalidOperationException)
            {
                problem = $"threw {e.GetType().Name}: {e.Message}";
            }
            if (problem.Length == 0) matched++;
            else report.AppendLine($"[{r.Language}] {r.Text}: {problem}");
        }
        return report.Length == 0 ? "" : $"{matched}/{records.Count} records match\n{report}";
    }

    [Test]
    public void EveryEnglishRecordMatchesUpstream()
    {
        var records = Load("vallex-en.json", "en");
        Assert.That(records, Has.Count.EqualTo(24));
        string report = Compare(records);
        Assert.That(report, Is.Empty, report);
    }
}
