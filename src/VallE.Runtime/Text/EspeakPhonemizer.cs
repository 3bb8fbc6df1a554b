using VallE.Runtime.Text.Espeak;

namespace VallE.Runtime.Text;

/// <summary>
/// Text to phoneme tokens exactly as lifeiteng/vall-e's <c>TextTokenizer</c> (and its <c>tokenize_text</c>)
/// makes them: phonemizer's espeak backend with punctuation preserved (default marks), no stress,
/// <c>tie=False</c>, language-switch flags kept, separators word <c>_</c> / syllable <c>-</c> / phone
/// <c>|</c>, <c>strip=True</c>; then <see cref="PhonemeList.Split"/>.
/// <para>
/// Cheap to create: espeak-ng itself is loaded once per process (<see cref="EspeakLibrary"/>) and shared.
/// Thread-safe: calls from many threads are serialised on espeak's global lock. There is nothing to dispose;
/// the library stays loaded for the life of the process because other phonemizers may use it.
/// </para>
/// </summary>
public sealed class EspeakPhonemizer
{
    public const string DefaultLanguage = "en-us";

    /// <summary>Longer texts are refused: phonemizing is linear, but a megabyte of text is a mistake, not a prompt.</summary>
    public const int MaxTextLength = 1_000_000;

    private readonly string _voice;

    /// <summary>The espeak language code (phonemizer's <c>language</c>), e.g. <c>en-us</c>.</summary>
    public string Language { get; }

    /// <summary>The espeak-ng library, version and data folder in use.</summary>
    public EspeakInfo Info { get; }

    /// <param name="language">An espeak-ng language code; <c>espeak-ng --voices</c> lists them.</param>
    /// <param name="libraryPath">libespeak-ng to load; null: <c>$VALLE_ESPEAK_LIB</c>, then the system's.</param>
    /// <param name="dataPath">espeak-ng-data folder (or its parent); null: <c>$VALLE_ESPEAK_DATA</c>, then espeak's default.</param>
    /// <exception cref="NativeDependencyException">libespeak-ng or its data is missing or unusable.</exception>
    /// <exception cref="InvalidInputException">The installed espeak-ng has no voice for <paramref name="language"/>.</exception>
    public EspeakPhonemizer(string language = DefaultLanguage, string? libraryPath = null, string? dataPath = null)
    {
        ArgumentNullException.ThrowIfNull(language);
        Info = EspeakLibrary.EnsureInitialized(libraryPath, dataPath);
        Language = language;
        _voice = EspeakLibrary.FindVoice(language) ?? throw UnknownLanguage(language, Info);
        EspeakLibrary.TextToPhonemes(_voice, []); // selects the voice now, so a broken voice fails here
    }

    /// <summary>The voices of the installed espeak-ng (loads it if needed).</summary>
    public static IReadOnlyList<EspeakVoice> ListVoices(string? libraryPath = null, string? dataPath = null)
    {
        EspeakLibrary.EnsureInitialized(libraryPath, dataPath);
        return EspeakLibrary.Voices;
    }

    /// <summary>
    /// The phoneme tokens of <paramref name="text"/> (lifeiteng's <c>tokenize_text</c>), e.g.
    /// "Hello, world!" → h ə l oʊ , _ w ɜː l d !. Empty when espeak finds nothing to pronounce.
    /// </summary>
    /// <exception cref="InvalidInputException">The text is empty, too long, or holds a NUL character.</exception>
    public IReadOnlyList<string> Phonemize(string text) => PhonemeList.Split(PhonemizeToString(text));

    /// <summary>
    /// phonemizer's output string before lifeiteng splits it into tokens, e.g. "h|ə|l|oʊ,_w|ɜː|l|d!".
    /// </summary>
    public string PhonemizeToString(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxTextLength)
            throw new InvalidInputException($"text is too long to phonemize ({text.Length} characters, at most {MaxTextLength})");
        if (text.Contains('\0'))
            throw new InvalidInputException("text contains a NUL character");
        text = PythonText.Strip(text); // tokenize_text: text.strip()
        if (text.Length == 0) throw new InvalidInputException("text is empty (nothing to phonemize)");

        var (chunks, marks) = PunctuationPreserver.Preserve(text);
        string[] phonemized = EspeakLibrary.TextToPhonemes(_voice, chunks);
        for (int i = 0; i < phonemized.Length; i++) phonemized[i] = EspeakOutput.Postprocess(phonemized[i]);
        List<string> lines = PunctuationPreserver.Restore(phonemized, marks);
        // phonemizer returns one line per input line; tokenize_text keeps the first.
        return lines.Count > 0 ? lines[0] : "";
    }

    /// <summary>
    /// phonemizer's <c>EspeakBackend(language, preserve_punctuation=True, with_stress=...).phonemize([text], separator, strip=True)[0]</c>
    /// without lifeiteng's <c>text.strip()</c> first: e-c-k-e-r/vall-e's g2p (word separator <c>" "</c>, phone <c>""</c>,
    /// stress kept). "" when phonemizer returns nothing.
    /// </summary>
    public string PhonemizeRaw(string text, bool withStress, char wordSeparator, string phoneSeparator)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(phoneSeparator);
        if (text.Length > MaxTextLength)
            throw new InvalidInputException($"text is too long to phonemize ({text.Length} characters, at most {MaxTextLength})");
        if (text.Contains('\0'))
            throw new InvalidInputException("text contains a NUL character");
        var (chunks, marks) = PunctuationPreserver.Preserve(text);
        string[] phonemized = EspeakLibrary.TextToPhonemes(_voice, chunks);
        for (int i = 0; i < phonemized.Length; i++)
            phonemized[i] = EspeakOutput.Postprocess(phonemized[i], wordSeparator.ToString(), phoneSeparator, withStress);
        List<string> lines = PunctuationPreserver.Restore(phonemized, marks, wordSeparator);
        return lines.Count > 0 ? lines[0] : "";
    }

    private static InvalidInputException UnknownLanguage(string language, EspeakInfo info)
    {
        var languages = EspeakLibrary.Voices.Select(v => v.Language).Where(l => l.Length > 0).Distinct().ToList();
        string prefix = language.Split('-', '_')[0];
        var similar = languages.Where(l => prefix.Length > 0 && l.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)).Take(8).ToList();
        string hint = similar.Count > 0
            ? $"similar: {string.Join(", ", similar)}"
            : $"e.g. {string.Join(", ", languages.Take(8))}";
        return new InvalidInputException(
            $"language '{language}' is not supported by the installed espeak-ng {info.Version} " +
            $"({languages.Count} languages; {hint}; `espeak-ng --voices` lists them all)");
    }
}
