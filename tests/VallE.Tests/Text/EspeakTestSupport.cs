using VallE.Runtime.Text;

namespace VallE.Tests.Text;

/// <summary>Gets an en-us phonemizer, or skips the test with a clear message when libespeak-ng is absent.</summary>
internal static class EspeakTestSupport
{
    private static readonly Lazy<(EspeakPhonemizer? Phonemizer, string? Why)> EnUs = new(() =>
    {
        try { return (new EspeakPhonemizer("en-us"), null); }
        catch (NativeDependencyException e) { return (null, e.Message); }
    });

    public static EspeakPhonemizer RequireEnUs()
    {
        var (phonemizer, why) = EnUs.Value;
        if (phonemizer is null) Assert.Ignore($"libespeak-ng is not usable here, skipping: {why}");
        return phonemizer!;
    }

    public static void RequireEspeak() => RequireEnUs();
}
