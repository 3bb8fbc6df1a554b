using VallE.Runtime.Codec;
using VallE.Runtime.Text.Vallex;
using VallE.Weights.NumPy;

namespace VallE.Runtime.Pipeline;

/// <summary>
/// A VALL-E X voice prompt, as upstream's presets hold it (<c>audio_tokens</c>, <c>text_tokens</c>, <c>lang_code</c>):
/// the prompt's EnCodec codes, its transcript's text tokens (bpe_69 ids, no &lt;bos&gt;/&lt;eos&gt;: VALL-E X's
/// collater adds none), and the prompt's language. Upstream's <c>generate_audio</c> puts these tokens in front of
/// the text's, makes their count <c>enroll_x_lens</c>, and gives them the prompt's language embedding.
/// </summary>
public sealed record VallexPrompt
{
    /// <summary>
    /// Longest prompt recording upstream's <c>make_prompt</c> takes, in seconds (it refuses longer WAVs). Applied to
    /// WAV prompts; presets are taken as they are, as upstream does (up to the caller's own prompt limit).
    /// </summary>
    public const double MaxRecordingSeconds = 15;

    /// <summary>The prompt's codes <c>[T, 8]</c> (T = 0: no prompt).</summary>
    public required AudioCodes Codes { get; init; }
    /// <summary>The prompt transcript's text tokens (empty: no prompt).</summary>
    public required long[] TextTokens { get; init; }
    /// <summary>The prompt's language: en, zh or ja.</summary>
    public required string Language { get; init; }
    /// <summary>Where it came from (a preset path, "transcript", "none"), for messages.</summary>
    public string Source { get; init; } = "prompt";

    /// <summary>
    /// Upstream's synthesis without a prompt: no codes, no prompt tokens, and the prompt language the text's
    /// (<c>en</c> when the text is <c>mix</c>).
    /// </summary>
    public static VallexPrompt None(string textLanguage) => new()
    {
        Codes = new AudioCodes([], 0),
        TextTokens = [],
        Language = textLanguage == "mix" ? "en" : textLanguage,
        Source = "none",
    };

    /// <summary>
    /// A prompt from codes and their transcript, tokenized as upstream's <c>make_prompt</c> does
    /// (<see cref="VallexTextFrontEnd.TokenizePrompt"/>); <paramref name="language"/> en, zh, ja or auto.
    /// </summary>
    public static VallexPrompt FromTranscript(AudioCodes codes, string transcript, string language)
    {
        ArgumentNullException.ThrowIfNull(codes);
        ArgumentNullException.ThrowIfNull(transcript);
        if (codes.Codebooks != EncodecContract.Quantizers)
            throw new InvalidInputException($"prompt codes have {codes.Codebooks} codebooks; VALL-E X uses {EncodecContract.Quantizers}");
        if (string.IsNullOrWhiteSpace(transcript))
            throw new InvalidInputException("a VALL-E X prompt needs its transcript (the words spoken in it)") { Setting = "PromptText" };
        VallexTokens tokens;
        try { tokens = VallexTextFrontEnd.TokenizePrompt(transcript, language ?? "auto"); }
        catch (InvalidInputException e) { throw new InvalidInputException($"prompt transcript: {e.Message}", e) { Setting = e.Setting }; }
        return new VallexPrompt
        {
            Codes = codes,
            TextTokens = [.. tokens.TokenIds.Select(i => (long)i)],
            Language = tokens.Language,
            Source = "transcript",
        };
    }

    /// <summary>
    /// Reads a VALL-E X preset (<c>.npz</c> as upstream's <c>make_prompt</c> writes it): <c>audio_tokens</c>
    /// int <c>[1, T, 8]</c> (or <c>[T, 8]</c>), <c>text_tokens</c> int <c>[1, S]</c> (or <c>[S]</c>), <c>lang_code</c>
    /// (0 zh, 1 ja, 2 en).
    /// </summary>
    /// <exception cref="InvalidInputException">Not a readable npz, or an array missing or of the wrong shape/type.</exception>
    public static VallexPrompt LoadPreset(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Dictionary<string, NpyArray> arrays;
        try { arrays = Npy.ReadNpz(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw new InvalidInputException($"{path}: cannot read the voice preset: {e.Message}", e);
        }
        NpyArray Get(string name) =>
            arrays.TryGetValue(name, out var a) || arrays.TryGetValue(name + ".npy", out a) ? a
                : throw new InvalidInputException($"{path}: not a VALL-E X voice preset (no '{name}' array; it has {string.Join(", ", arrays.Keys.Order(StringComparer.Ordinal))})");
        static bool IsInt(NpyArray a) => a.Type is NpyType.Int64 or NpyType.Int32 or NpyType.Int16 or NpyType.Int8 or NpyType.UInt8;

        NpyArray audio = Get("audio_tokens"), text = Get("text_tokens"), lang = Get("lang_code");
        long[] shape = audio.Shape;
        if (shape.Length == 3 && shape[0] == 1) shape = shape[1..];
        if (!IsInt(audio) || shape.Length != 2 || shape[1] != EncodecContract.Quantizers || shape[0] < 1)
            throw new InvalidInputException($"{path}: audio_tokens must be integer [1, T, {EncodecContract.Quantizers}] with T >= 1, found {audio}");
        long[] textShape = text.Shape;
        if (textShape.Length == 2 && textShape[0] == 1) textShape = textShape[1..];
        if (!IsInt(text) || textShape.Length != 1 || textShape[0] < 1)
            throw new InvalidInputException($"{path}: text_tokens must be integer [1, S] with S >= 1, found {text}");
        if (!IsInt(lang) || lang.Count != 1)
            throw new InvalidInputException($"{path}: lang_code must be one integer (0 zh, 1 ja, 2 en), found {lang}");
        long code = lang.ToInt64()[0];
        string language;
        try { language = VallexTextFrontEnd.LanguageOfCode(code is >= 0 and <= 2 ? (int)code : -1); }
        catch (InvalidInputException) { throw new InvalidInputException($"{path}: lang_code {code} is not 0 (zh), 1 (ja) or 2 (en)"); }
        return new VallexPrompt
        {
            Codes = new AudioCodes(audio.ToInt64(), checked((int)shape[0])),
            TextTokens = text.ToInt64(),
            Language = language,
            Source = path,
        };
    }
}
