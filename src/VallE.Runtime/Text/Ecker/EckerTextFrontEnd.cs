using VallE.Runtime.Text.Vallex.Japanese;
using VallE.Weights;

namespace VallE.Runtime.Text.Ecker;

/// <summary>One text through e-c-k-e-r/vall-e's front end.</summary>
/// <param name="Text">The input text.</param>
/// <param name="Language">The language name given (en, ja, de, fr, zh, ko).</param>
/// <param name="LanguageId">Upstream's language id (<c>get_lang_symmap</c>): the model's <c>lang</c> input.</param>
/// <param name="EspeakLanguage">The espeak voice phonemizer is given (<c>coerce_language</c>).</param>
/// <param name="Phonemes">What <c>g2p.encode</c> returns: IPA with stress, words separated by spaces.</param>
/// <param name="TokenIds">The phoneme token ids with &lt;bos&gt; 1 … &lt;eos&gt; 2, the model's <c>text</c> input.</param>
public sealed record EckerTokens(string Text, string Language, int LanguageId, string EspeakLanguage, string Phonemes, int[] TokenIds);

/// <summary>
/// e-c-k-e-r/vall-e's text front end (commit 73833ee): <c>tokenize(g2p.encode(text, language))</c>, i.e.
/// phonemizer's espeak backend (<c>preserve_punctuation=True, with_stress=True</c>, default separator: word
/// <c>" "</c>, phone <c>""</c>; <c>strip=True</c>; <c>tie=False</c>, language-switch flags kept), language names
/// coerced as upstream (<c>en</c> → <c>en-us</c>, <c>fr</c> → <c>fr-fr</c>, <c>zh*</c> → <c>cmn-latn-pinyin</c> with
/// the tone digits 1–5 rewritten to <c>ˇ ˉ ˊ ˋ _</c>), then the BPE of upstream's <c>data/tokenizer.json</c>
/// (<see cref="EckerBpeTokenizer"/>), which adds &lt;bos&gt; 1 and &lt;eos&gt; 2.
/// <para>Japanese: upstream first turns the text into hiragana with pykakasi (<c>coerce_to_hiragana</c>); we reproduce
/// pykakasi's conversion (<see cref="KakasiHiragana"/>: katakana, half-width kana, symbols and its quirks as pykakasi
/// 2.3.0) but read kanji with OpenJTalk's dictionary (<see cref="KanjiReadings"/>), so kanji readings can differ from
/// pykakasi's (日本 にっぽん where pykakasi says にほん). OpenJTalk is needed only for text with kanji.
/// <c>auto</c> (langdetect) is not supported: name the language.</para>
/// <para>The tokenizer file is upstream's (AGPL-3.0) and is not shipped: pass its path.</para>
/// </summary>
public sealed class EckerTextFrontEnd
{
    /// <summary>Upstream's language names in id order (<c>get_lang_symmap</c>: en 0, ja 1, de 2, fr 3, zh 4, ko 5).</summary>
    public static readonly IReadOnlyList<string> Languages = Models.Ecker.EckerLanguages.Names;

    private readonly EckerBpeTokenizer _tokenizer;
    private readonly string? _libraryPath, _dataPath;
    private readonly Dictionary<string, EspeakPhonemizer> _phonemizers = new(StringComparer.Ordinal);
    private readonly object _lock = new();
    private readonly KanjiReadings.Analyzer? _kanjiAnalyzer;

    public EckerBpeTokenizer Tokenizer => _tokenizer;

    /// <param name="tokenizer">Upstream's <c>data/tokenizer.json</c>, loaded.</param>
    /// <param name="espeakLibrary">libespeak-ng (null: <c>$VALLE_ESPEAK_LIB</c>, then the system's).</param>
    /// <param name="espeakData">espeak-ng-data (null: <c>$VALLE_ESPEAK_DATA</c>, then espeak's own).</param>
    public EckerTextFrontEnd(EckerBpeTokenizer tokenizer, string? espeakLibrary = null, string? espeakData = null)
    {
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        _libraryPath = espeakLibrary;
        _dataPath = espeakData;
    }

    /// <summary>For tests: kanji words analysed by <paramref name="kanjiAnalyzer"/> instead of OpenJTalk.</summary>
    internal EckerTextFrontEnd(EckerBpeTokenizer tokenizer, KanjiReadings.Analyzer kanjiAnalyzer, string? espeakLibrary = null, string? espeakData = null)
        : this(tokenizer, espeakLibrary, espeakData) => _kanjiAnalyzer = kanjiAnalyzer ?? throw new ArgumentNullException(nameof(kanjiAnalyzer));

    /// <summary>Loads the tokenizer from <paramref name="tokenizerPath"/>.</summary>
    public static EckerTextFrontEnd Load(string tokenizerPath, string? espeakLibrary = null, string? espeakData = null)
        => new(EckerBpeTokenizer.Load(tokenizerPath), espeakLibrary, espeakData);

    /// <summary>
    /// The environment variable naming upstream's <c>tokenizer.json</c> where no path is given (the CLI's
    /// <c>--tokenizer</c>, <see cref="VallE.ValleSpeechClientOptions.Tokenizer"/>, the server and the C ABI).
    /// </summary>
    public const string TokenizerEnvironmentVariable = "VALLE_ECKER_TOKENIZER";

    /// <summary><paramref name="given"/>, else <c>$VALLE_ECKER_TOKENIZER</c>, else null (the file is not shipped).</summary>
    public static string? TokenizerPath(string? given) =>
        !string.IsNullOrWhiteSpace(given) ? given
            : Environment.GetEnvironmentVariable(TokenizerEnvironmentVariable) is { Length: > 0 } path ? path : null;

    /// <summary>Upstream's id of a language name, or -1.</summary>
    public static int LanguageId(string language) => Models.Ecker.EckerLanguages.IdOf(language);

    /// <summary>g2p's <c>coerce_language</c>: the espeak voice for a language name.</summary>
    public static string CoerceLanguage(string language)
    {
        ArgumentNullException.ThrowIfNull(language);
        if (language == "en") language = "en-us";
        if (language == "fr") return "fr-fr";
        if (language.StartsWith("zh", StringComparison.Ordinal)) return "cmn-latn-pinyin";
        return language;
    }

    /// <summary><c>g2p.encode(text, language)</c>: the phoneme string.</summary>
    /// <exception cref="InvalidInputException">Unknown language, bad text, or Japanese text OpenJTalk cannot take.</exception>
    /// <exception cref="NativeDependencyException">Japanese text with kanji and no OpenJTalk (or espeak missing).</exception>
    public string Phonemize(string text, string language)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(language);
        if (LanguageId(language) < 0)
            throw new InvalidInputException($"language '{language}' is not one of e-c-k-e-r/vall-e's: {string.Join(", ", Languages)}");
        if (language == "ja") text = ToHiragana(text);
        string voice = CoerceLanguage(language);
        string phonemes = GetPhonemizer(voice).PhonemizeRaw(text, withStress: true, wordSeparator: ' ', phoneSeparator: "");
        if (voice == "cmn-latn-pinyin") phonemes = RemapTones(phonemes);
        return phonemes;
    }

    /// <summary>The whole front end: phonemes, then the token ids with &lt;bos&gt; … &lt;eos&gt;.</summary>
    public EckerTokens Tokenize(string text, string language)
    {
        string phonemes = Phonemize(text, language);
        return new EckerTokens(text, language, LanguageId(language), CoerceLanguage(language), phonemes, _tokenizer.Encode(phonemes));
    }

    /// <summary>Upstream's tone rewrite for Mandarin: 1 → ˇ, 2 → ˉ, 3 → ˊ, 4 → ˋ, 5 → _ (in that order).</summary>
    public static string RemapTones(string phonemes) => phonemes
        .Replace("1", "ˇ", StringComparison.Ordinal).Replace("2", "ˉ", StringComparison.Ordinal)
        .Replace("3", "ˊ", StringComparison.Ordinal).Replace("4", "ˋ", StringComparison.Ordinal)
        .Replace("5", "_", StringComparison.Ordinal);

    /// <summary>
    /// Upstream's <c>coerce_to_hiragana</c> (what espeak gets for <c>ja</c>): pykakasi's hiragana, with kanji read by
    /// OpenJTalk (looked for only when the text has kanji).
    /// </summary>
    /// <exception cref="NativeDependencyException">The text has kanji and OpenJTalk is missing or failed.</exception>
    /// <exception cref="InvalidInputException">A run of Japanese characters is too long for OpenJTalk.</exception>
    public string ToHiragana(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        KanjiReadings.Analyzer analyze = _kanjiAnalyzer ?? (line => OpenJTalkLabeler.Shared.ExtractWords(line));
        return KakasiHiragana.Convert(text, KanjiReadings.Find(text, analyze));
    }

    private EspeakPhonemizer GetPhonemizer(string voice)
    {
        lock (_lock)
        {
            if (!_phonemizers.TryGetValue(voice, out var p))
                _phonemizers[voice] = p = new EspeakPhonemizer(voice, _libraryPath, _dataPath);
            return p;
        }
    }
}
