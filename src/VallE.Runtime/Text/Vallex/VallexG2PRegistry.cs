using System.Collections.Concurrent;

namespace VallE.Runtime.Text.Vallex;

/// <summary>
/// Finds the <see cref="IVallexG2P"/> of a language: <c>EnglishG2P</c> for "en", <c>MandarinG2P</c> for "zh",
/// <c>JapaneseG2P</c> for "ja", constructed directly (no reflection: the NativeAOT build of the C ABI trims and must
/// see the constructors). One instance per language, made on first use.
/// </summary>
internal static class VallexG2PRegistry
{
    private static readonly Dictionary<string, string> ClassNames = new(StringComparer.Ordinal)
    {
        ["en"] = "EnglishG2P",
        ["zh"] = "MandarinG2P",
        ["ja"] = "JapaneseG2P",
    };

    private static readonly ConcurrentDictionary<string, Lazy<IVallexG2P?>> Instances = new(StringComparer.Ordinal);

    /// <summary>Languages a G2P class exists for in this build.</summary>
    public static IReadOnlyList<string> Available => [.. ClassNames.Keys.Where(l => Find(l) is not null)];

    /// <summary>The G2P of <paramref name="language"/> ("en", "zh" or "ja").</summary>
    /// <exception cref="InvalidInputException">The language is unknown or this build has no G2P for it.</exception>
    public static IVallexG2P Get(string language)
    {
        if (!ClassNames.TryGetValue(language, out string? className))
            throw new InvalidInputException($"the VALL-E X front end has no language '{language}' (en, zh, ja)");
        IVallexG2P? g2p = Instances.GetOrAdd(language, l => new Lazy<IVallexG2P?>(() => Create(l))).Value;
        return g2p ?? throw new InvalidInputException(
            $"the VALL-E X front end of this build has no G2P for language '{language}' ({className} is missing)");
    }

    private static Type? Find(string language) => language switch
    {
        "en" => typeof(English.EnglishG2P),
        "zh" => typeof(Mandarin.MandarinG2P),
        "ja" => typeof(Japanese.JapaneseG2P),
        _ => null,
    };

    private static IVallexG2P? Create(string language)
    {
        IVallexG2P? g2p = language switch
        {
            "en" => new English.EnglishG2P(),
            "zh" => new Mandarin.MandarinG2P(),
            "ja" => new Japanese.JapaneseG2P(),
            _ => null,
        };
        if (g2p is not null && g2p.Language != language)
            throw new InvalidOperationException($"{g2p.GetType().FullName}.Language is '{g2p.Language}', expected '{language}'");
        return g2p;
    }
}
