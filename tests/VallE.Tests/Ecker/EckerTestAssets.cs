using VallE.Tests.Support;
using VallE.Tests.Text;

namespace VallE.Tests.Ecker;

/// <summary>
/// What the ecker text-to-speech tests share: the fixtures (random weights, 256 phoneme tokens, 4 languages) and our
/// own small <c>test-tokenizer.json</c> (beside this file; not upstream's AGPL file, which CI does not have).
/// </summary>
internal static class EckerTestAssets
{
    public static string TestTokenizer => Path.Combine(TestPaths.RepoRoot, "tests", "VallE.Tests", "Ecker", "test-tokenizer.json");

    public static string Fixture(string name, string file) => TestPaths.RequireShared("ecker", name, file);

    /// <summary>The tests that need espeak-ng (the front end phonemizes) skip without it.</summary>
    public static void RequireEspeak() => EspeakTestSupport.RequireEspeak();

    /// <summary>
    /// Tests of the missing-tokenizer error cannot run where <c>$VALLE_ECKER_TOKENIZER</c> is set (it is the fallback):
    /// they are skipped there, with the reason.
    /// </summary>
    public static void RequireNoTokenizerVariable()
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("VALLE_ECKER_TOKENIZER")))
            Assert.Ignore("VALLE_ECKER_TOKENIZER is set: the missing-tokenizer error cannot happen in this process");
    }
}
