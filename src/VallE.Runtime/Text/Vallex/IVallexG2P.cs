namespace VallE.Runtime.Text.Vallex;

/// <summary>
/// One language of the VALL-E X text front end (Plachtaa/VALL-E-X <c>utils/g2p</c>): turns the text of one
/// language-tagged segment (the part between <c>[EN]..[EN]</c>, <c>[ZH]..[ZH]</c> or <c>[JA]..[JA]</c>, tags
/// removed) into the IPA-like phoneme string <c>cje_cleaners</c> makes for it, spaces still spaces (the tokenizer
/// maps them to <c>_</c>). Implementations: <c>EnglishG2P</c> ("en"), <c>MandarinG2P</c> ("zh"),
/// <c>JapaneseG2P</c> ("ja"), each with a parameterless constructor, in any namespace of this assembly;
/// <see cref="VallexG2PRegistry"/> finds them by class name, so a language whose class is absent is refused
/// with an <see cref="InvalidInputException"/> naming it.
/// </summary>
internal interface IVallexG2P
{
    /// <summary>"en", "zh" or "ja".</summary>
    string Language { get; }

    /// <summary>
    /// The phonemes of one segment, exactly what upstream's per-language function returns for it:
    /// <c>english_to_ipa2</c> (en), <c>chinese_to_ipa</c> (zh), <c>japanese_to_ipa2</c> (ja), without the space
    /// <c>clean_one</c> appends (the front end adds it, strips trailing whitespace and adds the final ".").
    /// </summary>
    /// <exception cref="InvalidInputException">The text cannot be phonemized.</exception>
    string ToIpa(string segmentText);
}
