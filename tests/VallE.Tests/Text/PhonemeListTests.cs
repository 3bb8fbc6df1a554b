using VallE.Runtime.Text;

namespace VallE.Tests.Text;

/// <summary>phonemizer's espeak line post-processing and lifeiteng's to_list, without espeak.</summary>
public class PhonemeListTests
{
    [Test]
    public void PostprocessRemovesStressAndRewritesSeparators()
    {
        // espeak: phonemes joined by '_', words by ' ', stress marks, stray '_' at word ends (espeak-ng #694).
        Assert.That(EspeakOutput.Postprocess(" həlˈoʊ wˈɜːld "), Is.EqualTo("həloʊ_wɜːld"));
        Assert.That(EspeakOutput.Postprocess("h_ə_l_ˈoʊ__ w_ˈɜː_l_d_"), Is.EqualTo("h|ə|l|oʊ_w|ɜː|l|d|"));
        Assert.That(EspeakOutput.Postprocess("a\nb"), Is.EqualTo("a_b"));
        Assert.That(EspeakOutput.Postprocess("ʒ_ɛ_m l_ə (en)f_ˈʊ_t_b_ɔː_l(fr)"), Is.EqualTo("ʒ|ɛ|m_l|ə_(en)f|ʊ|t|b|ɔː|l(fr)"));
        Assert.That(EspeakOutput.Postprocess("   "), Is.EqualTo(""));
    }

    [Test]
    public void SplitsWordsIntoPhonesWithWordSeparatorTokens()
    {
        Assert.That(PhonemeList.Split("h|ə|l|oʊ,_w|ɜː|l|d!"),
            Is.EqualTo(new[] { "h", "ə", "l", "oʊ", ",", "_", "w", "ɜː", "l", "d", "!" }));
        // Empty words (double separators) give consecutive '_' tokens, as upstream.
        Assert.That(PhonemeList.Split("h|ə|l|oʊ_,__w|ɜː|l|d"),
            Is.EqualTo(new[] { "h", "ə", "l", "oʊ", "_", ",", "_", "_", "w", "ɜː", "l", "d" }));
        // Python's \w: the combining tilde is its own token, ':' a symbol, "oːɹ" one word.
        Assert.That(PhonemeList.Split("b|ɔ̃|ʒ|u|ʁ"), Is.EqualTo(new[] { "b", "ɔ", "\u0303", "ʒ", "u", "ʁ" }));
        Assert.That(PhonemeList.Split("θ|ɹ|iː:f|oːɹ|ɾ|i"), Is.EqualTo(new[] { "θ", "ɹ", "iː", ":", "f", "oːɹ", "ɾ", "i" }));
        Assert.That(PhonemeList.Split(""), Is.Empty);
        Assert.That(PhonemeList.Split("?_!"), Is.EqualTo(new[] { "?", "_", "!" }));
    }

    [Test]
    public void WhitespaceUpstreamWouldAssertOnReadsAsASpace()
    {
        // phonemizer gives "h|ə|l|oʊ.\nw|ɜː|l|d." for "Hello.\nWorld." and to_list's assert fails there.
        Assert.That(PhonemeList.Split("h|ə|l|oʊ.\nw|ɜː|l|d."), Is.EqualTo(PhonemeList.Split("h|ə|l|oʊ._w|ɜː|l|d.")));
        Assert.That(PhonemeList.Split("a,\u00a0b"), Is.EqualTo(new[] { "a", ",", "_", "b" }));
    }
}
