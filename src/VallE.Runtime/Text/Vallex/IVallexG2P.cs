namespace VallE.Runtime.Text.Vallex;

/// <summary>
/// One language of the VALL-E X text front end (Plachtaa/VALL-E-X <c>utils/g2p</c>): turns the text of one
/// language-tagged segment (the part between <c>[EN]..[EN]</c>, <c>[ZH]..[ZH]</c> or <c>[JA]..[JA]</c>, tags
/// removed) into the IPA-like phoneme string <c>cje_cleaners</c> makes for it, spaces still spaces (the tokenizer
/// maps them to <c>_</c>). Implementations: <c>EnglishG2P</c> ("en"), <c>MandarinG2P</c> ("zh"),
/// <c>JapaneseG2P</c> ("ja"); <see cref="VallexG2PRegistry"/> finds them.
/// </summary>
internal interface IVallexG2P
{
    /// <summary>"en", "zh" or "ja".</summary>
    string Language { get; }

    /// <summary>The phonemes of one segment, exactly as upstream's cleaner for this language gives them.</summary>
    /// <exception cref="InvalidInputException">The text cannot be phonemized.</exception>
    string ToIpa(string segmentText);
}
