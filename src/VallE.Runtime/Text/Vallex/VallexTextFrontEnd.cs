namespace VallE.Runtime.Text.Vallex;

/// <summary>The text tokens of VALL-E X for one text: what <c>PhonemeBpeTokenizer.tokenize</c> returns.</summary>
/// <param name="Text">The text as given.</param>
/// <param name="Language">The language asked for, or the one detected for "auto" (en, zh, ja or mix).</param>
/// <param name="Phonemes">The phoneme string, spaces written as <c>_</c>; one token per code point.</param>
/// <param name="TokenIds">bpe_69 ids, one per phoneme code point ([UNK] = 0 for a character outside the vocabulary).</param>
/// <param name="LanguageIds">One per token: zh 0, ja 1, en 2.</param>
public sealed record VallexTokens(string Text, string Language, string Phonemes, int[] TokenIds, int[] LanguageIds);

/// <summary>
/// VALL-E X's text front end (Plachtaa/VALL-E-X <c>utils/g2p</c> with <c>bpe_69.json</c>, as
/// <c>utils/generation.py</c> calls it): newlines removed and spaces trimmed, the text wrapped in the language's tags
/// (<c>[EN]..[EN]</c>, <c>[ZH]..[ZH]</c>, <c>[JA]..[JA]</c>; "mix": the text carries its own tags), then
/// <c>tokenize(f"_{text}".strip())</c>: each tagged segment through its language's G2P, spaces as <c>_</c>, one
/// bpe_69 token and one language id per phoneme character. "auto" picks en, zh or ja from the script of the text
/// (<see cref="DetectLanguage"/>); upstream asks langid, restricted to those three.
/// </summary>
public static class VallexTextFrontEnd
{
    /// <summary>The languages <see cref="Tokenize"/> takes.</summary>
    public static IReadOnlyList<string> Languages { get; } = ["en", "zh", "ja", "mix", "auto"];

    /// <summary>Tokens of <paramref name="text"/> in <paramref name="language"/> (en, zh, ja, mix or auto).</summary>
    /// <exception cref="InvalidInputException">Unknown language, a language this build has no G2P for, or nothing
    /// to pronounce.</exception>
    public static VallexTokens Tokenize(string text, string language)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(language);
        string cleaned = text.Replace("\n", "", StringComparison.Ordinal).Trim(' ');
        if (language == "auto") language = DetectLanguage(cleaned);
        string tag = language switch
        {
            "en" => "[EN]",
            "zh" => "[ZH]",
            "ja" => "[JA]",
            "mix" => "",
            _ => throw new InvalidInputException($"unknown VALL-E X language '{language}' (en, zh, ja, mix or auto)")
            {
                Setting = "language",
            },
        };
        string tagged = PythonText.Strip("_" + tag + cleaned + tag);
        var (phonemes, ids, languageIds) = VallexPhonemeTokenizer.Tokenize(tagged);
        return new VallexTokens(text, language, phonemes, ids, languageIds);
    }

    /// <summary>
    /// Tokens of a prompt transcript, as upstream's <c>make_prompt</c> builds a preset's <c>text_tokens</c>: the
    /// transcript in <paramref name="language"/> (en, zh, ja, or auto: detected as <see cref="DetectLanguage"/>) is
    /// wrapped in its tags and tokenized as <c>tokenize(f"{text}".strip())</c>, without the leading <c>_</c> that
    /// <see cref="Tokenize"/> adds to the text to speak and without removing newlines.
    /// </summary>
    public static VallexTokens TokenizePrompt(string transcript, string language)
    {
        ArgumentNullException.ThrowIfNull(transcript);
        ArgumentNullException.ThrowIfNull(language);
        if (language == "auto") language = DetectLanguage(transcript);
        string tag = language switch
        {
            "en" => "[EN]",
            "zh" => "[ZH]",
            "ja" => "[JA]",
            _ => throw new InvalidInputException($"unknown VALL-E X prompt language '{language}' (en, zh, ja or auto)")
            {
                Setting = "promptLanguage",
            },
        };
        var (phonemes, ids, languageIds) = VallexPhonemeTokenizer.Tokenize(PythonText.Strip(tag + transcript + tag));
        return new VallexTokens(transcript, language, phonemes, ids, languageIds);
    }

    /// <summary>The language of a front-end language id (upstream's <c>code2lang</c>: zh 0, ja 1, en 2).</summary>
    public static string LanguageOfCode(int code) => code switch
    {
        0 => "zh",
        1 => "ja",
        2 => "en",
        _ => throw new InvalidInputException($"VALL-E X language code {code} is not one of 0 (zh), 1 (ja), 2 (en)"),
    };

    /// <summary>Entries of the bpe_69 vocabulary (token ids are below this).</summary>
    public static int VocabularySize => VallexPhonemeTokenizer.VocabularySize;

    /// <summary>The front-end language id of <paramref name="language"/> (upstream's <c>lang2code</c>: zh 0, ja 1, en 2).</summary>
    public static int CodeOfLanguage(string language) => VallexPhonemeTokenizer.LanguageId(language);

    /// <summary>
    /// "auto": ja when the text has any kana, else zh when it has any Han character, else en. A script rule, not
    /// upstream's langid classifier: mixed-script text and Latin-script text of other languages may be judged
    /// differently (langid would still answer one of en, zh, ja).
    /// </summary>
    public static string DetectLanguage(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        bool han = false;
        foreach (System.Text.Rune r in text.EnumerateRunes())
        {
            int c = r.Value;
            if (c is (>= 0x3040 and <= 0x30FF) or (>= 0x31F0 and <= 0x31FF) or (>= 0xFF66 and <= 0xFF9F)) return "ja";
            if (c is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0xF900 and <= 0xFAFF)
                or (>= 0x20000 and <= 0x3134F)) han = true;
        }
        return han ? "zh" : "en";
    }
}
