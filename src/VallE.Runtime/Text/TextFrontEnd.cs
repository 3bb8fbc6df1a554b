namespace VallE.Runtime.Text;

/// <summary>
/// The text tokens a lifeiteng/vall-e model is given at inference, made as <c>valle/bin/infer.py</c> makes them:
/// <list type="bullet">
/// <item><see cref="TextTokens.Tokens"/>: <c>&lt;bos&gt;</c> + tokens of <c>f"{prompt_text} {text}".strip()</c>
/// + <c>&lt;eos&gt;</c> (prompt and target are phonemized together, so espeak sees one utterance).</item>
/// <item><see cref="TextTokens.EnrollTokens"/>: upstream's <c>enroll_x_lens</c>, the collater length of the
/// prompt transcript phonemized alone, i.e. its token count + 2 (<c>&lt;bos&gt;</c> and <c>&lt;eos&gt;</c>
/// included). The NAR of <c>prefix_mode</c> 2 and 4 drops tokens <c>1 .. EnrollTokens-2</c>.</item>
/// </list>
/// VALL-E X checkpoints tokenize differently (language tokens, BPE phonemes) and do not use this class.
/// </summary>
public sealed class TextFrontEnd
{
    public EspeakPhonemizer Phonemizer { get; }
    public SymbolTable Symbols { get; }

    public TextFrontEnd(EspeakPhonemizer phonemizer, SymbolTable symbols)
    {
        Phonemizer = phonemizer ?? throw new ArgumentNullException(nameof(phonemizer));
        Symbols = symbols ?? throw new ArgumentNullException(nameof(symbols));
    }

    /// <summary>Tokens for synthesising <paramref name="text"/> in the voice of a prompt whose transcript is <paramref name="promptTranscript"/>.</summary>
    /// <exception cref="InvalidInputException">Empty text or transcript, nothing to pronounce, or a phoneme the table lacks.</exception>
    public TextTokens Tokenize(string promptTranscript, string text)
    {
        ArgumentNullException.ThrowIfNull(promptTranscript);
        ArgumentNullException.ThrowIfNull(text);
        if (PythonText.Strip(promptTranscript).Length == 0)
            throw new InvalidInputException("the prompt transcript is empty: give the words spoken in the prompt recording");
        if (PythonText.Strip(text).Length == 0)
            throw new InvalidInputException("the text to synthesise is empty");

        // The text alone must say something: punctuation after a transcript would otherwise pass as speech.
        PhonemizeNonEmpty(text, "text");
        string combined = PythonText.Strip($"{promptTranscript} {text}");
        IReadOnlyList<string> phonemes = PhonemizeNonEmpty(combined, "text");
        IReadOnlyList<string> promptPhonemes = PhonemizeNonEmpty(promptTranscript, "prompt transcript");
        long[] tokens = Symbols.Encode(phonemes, addBosEos: true, sourceText: combined);
        return new TextTokens(tokens, promptPhonemes.Count + 2) { Phonemes = phonemes };
    }

    /// <summary>Tokens of a text without a prompt (<c>&lt;bos&gt;</c> + phonemes + <c>&lt;eos&gt;</c>).</summary>
    public long[] Tokenize(string text) => Symbols.Encode(PhonemizeNonEmpty(text, "text"), addBosEos: true, sourceText: text);

    private IReadOnlyList<string> PhonemizeNonEmpty(string text, string what)
    {
        IReadOnlyList<string> phonemes = Phonemizer.Phonemize(text);
        if (!phonemes.Any(IsSpoken))
            throw new InvalidInputException($"the {what} has nothing espeak-ng can pronounce: \"{Abbreviate(text)}\"");
        return phonemes;
    }

    /// <summary>A phoneme token that is a sound: not a kept punctuation mark, not the word separator.</summary>
    public static bool IsSpoken(string phoneme) =>
        phoneme.Any(ch => !char.IsWhiteSpace(ch) && ch != '_' && !PunctuationPreserver.IsMark(ch));

    private static string Abbreviate(string text) => text.Length <= 80 ? text : text[..77] + "...";
}

/// <summary>Model input made from text: token ids and the length of the prompt transcript's part.</summary>
/// <param name="Tokens">int64 token ids, <c>&lt;bos&gt;</c> ... <c>&lt;eos&gt;</c> (upstream <c>text_tokens[0]</c>).</param>
/// <param name="EnrollTokens">upstream's <c>enroll_x_lens</c>: prompt-transcript tokens + 2.</param>
public sealed record TextTokens(long[] Tokens, int EnrollTokens)
{
    /// <summary>The phoneme tokens behind <see cref="Tokens"/> (without <c>&lt;bos&gt;</c>/<c>&lt;eos&gt;</c>), for display.</summary>
    public IReadOnlyList<string> Phonemes { get; init; } = [];
}
