using VallE.Runtime.Codec;
using VallE.Weights;

namespace VallE.Runtime.Models;

/// <summary>
/// The one check of a <see cref="GenerationRequest"/> against a model's configuration, shared by every backend (the
/// CPU engine and the CUDA generator), so that bad requests fail the same way, with the same message, wherever they
/// run. Also resolves what the checks establish: the AR's input and the VALL-E X language ids.
/// </summary>
internal static class RequestValidation
{
    /// <summary>Checks request <paramref name="index"/> of a batch (0 for a single one) and returns the AR's input.</summary>
    public static ArInput Validate(ModelConfig c, GenerationRequest r, int index)
    {
        Text(c, r.TextTokens, index);
        // VALL-E X synthesises without a voice prompt from [1, 0, 8] codes (and enroll 0).
        Codes(c, r.PromptCodes, index, "prompt codes", allowEmpty: true);
        string where = Where(index);
        int S = r.TextTokens.Length;
        bool vallex = c.Family == ModelFamily.VallEX;
        bool needsEnroll = vallex || c.PrefixMode is 2 or 4;
        if (needsEnroll && r.EnrollTokens is null)
            throw new InvalidInputException($"{where}this model needs the number of enrolled (prompt transcript) text tokens")
            {
                Setting = nameof(GenerationRequest.EnrollTokens),
            };
        // VALL-E X without a voice prompt uses enroll 0; prefix modes 2/4 keep text[enroll - 1:], so need enroll >= 1.
        int minEnroll = c.PrefixMode is 2 or 4 ? 1 : 0;
        if (r.EnrollTokens is { } e && (e < minEnroll || e > S))
            throw new InvalidInputException($"{where}enroll tokens {e} outside {minEnroll}..{S} (the text has {S} tokens)");
        if (r.TextLanguages is not null && c.PrefixMode is 2 or 4)
            throw new InvalidInputException($"{where}per-token text languages cannot be used with prefix mode {c.PrefixMode}");
        int[]? languages = LanguageIds(c, r, S);
        if (r.MaxFrames is < 0) throw new InvalidInputException($"{where}max frames {r.MaxFrames} is negative");
        return new ArInput(r.TextTokens, r.PromptCodes.Codebook(0), languages, r.Sampling, r.MaxFrames ?? int.MaxValue);
    }

    /// <summary>Text tokens: not empty, at most <see cref="GenerationRequest.MaxTextTokens"/>, inside the text vocabulary.</summary>
    public static void Text(ModelConfig c, long[] text, int index)
    {
        string where = Where(index);
        if (text.Length == 0) throw new InvalidInputException($"{where}text tokens are empty");
        if (text.Length > GenerationRequest.MaxTextTokens)
            throw new InvalidInputException($"{where}{text.Length} text tokens; one utterance takes at most {GenerationRequest.MaxTextTokens} (split the text into sentences)");
        int vocab = c.TextVocab;
        for (int i = 0; i < text.Length; i++)
            if (text[i] < 0 || text[i] >= vocab)
                throw new InvalidInputException($"{where}text token {i} is {text[i]}, outside the model's 0..{vocab - 1}");
    }

    /// <summary>A code matrix: <c>[frames, NumQuantizers]</c>, every code inside the codebook.</summary>
    public static void Codes(ModelConfig c, AudioCodes codes, int index, string what, bool allowEmpty = false)
    {
        ArgumentNullException.ThrowIfNull(codes);
        string where = Where(index);
        int books = codes.Codebooks;
        if (books != c.NumQuantizers)
            throw new InvalidInputException($"{where}{what} have {books} codebooks, the model expects {c.NumQuantizers} ([frames, {c.NumQuantizers}])");
        if (codes.Frames == 0 && !allowEmpty) throw new InvalidInputException($"{where}{what} have no frames");
        ReadOnlySpan<long> all = codes.Span;
        for (int i = 0; i < all.Length; i++)
            if (all[i] < 0 || all[i] >= c.AudioVocab)
                throw new InvalidInputException($"{where}{what}[{i / books}, {i % books}] is {all[i]}, outside the codebook 0..{c.AudioVocab - 1}");
    }

    /// <summary>
    /// VALL-E X language id of each of <paramref name="length"/> text positions: the prompt language on the first
    /// EnrollTokens, then the text language (or the per-token list); null for lifeiteng models.
    /// </summary>
    public static int[]? LanguageIds(ModelConfig c, GenerationRequest r, int length)
    {
        if (c.Family != ModelFamily.VallEX) return null;
        int enroll = r.EnrollTokens ?? 0;
        int prompt = LanguageId(r.PromptLanguage, "prompt");
        var ids = new int[length];
        if (r.TextLanguages is { } list)
        {
            if (list.Count != length - enroll)
                throw new InvalidInputException($"{list.Count} per-token text languages given for {length - enroll} text tokens after the {enroll} enrolled ones");
            for (int i = 0; i < length; i++) ids[i] = i < enroll ? prompt : LanguageId(list[i - enroll], "text");
            return ids;
        }
        int text = LanguageId(r.TextLanguage, "text");
        for (int i = 0; i < length; i++) ids[i] = i < Math.Min(enroll, length) ? prompt : text;
        return ids;
    }

    /// <summary>VALL-E X language id of <paramref name="name"/> ("en" 0, "zh" 1, "ja" 2).</summary>
    public static int LanguageId(string? name, string what)
    {
        if (name is null) throw new InvalidInputException($"VALL-E X needs the {what} language (en, zh or ja)");
        return ModelConfig.VallEXLanguageIds.TryGetValue(name, out int id)
            ? id
            : throw new InvalidInputException($"unknown {what} language '{name}' (expected en, zh or ja)");
    }

    private static string Where(int index) => index > 0 ? $"request {index}: " : "";
}
