using VallE.Weights;

namespace VallE.Runtime.Models;

/// <summary>
/// The text half of a decoder input, shared by AR and NAR (each with its own weights):
/// <c>position(prenet(embedding(text) + language))</c>. Language embeddings are VALL-E X's: the prompt language
/// on the first <c>enroll</c> positions, the text language (or one per token) on the rest.
/// </summary>
internal static class TextEncoder
{
    /// <param name="languages">VALL-E X: the language id of every text position (null: no language embedding).</param>
    public static void Encode(Cpu.CpuBackend backend, ReadOnlySpan<long> text, Embedding embedding, Embedding? language, int[]? languages,
        TextPrenet? prenet, SinePositions position, Span<float> output)
    {
        int d = embedding.Dim;
        for (int i = 0; i < text.Length; i++)
        {
            var row = output.Slice(i * d, d);
            embedding.CopyTo(text[i], row);
            if (language is not null && languages is not null) language.AddTo(languages[i], row);
        }
        prenet?.Apply(backend, output, text.Length);
        position.Apply(output, 0, text.Length);
    }

    /// <summary>VALL-E X language id of <paramref name="name"/> ("en" 0, "zh" 1, "ja" 2).</summary>
    public static int LanguageId(string? name, string what)
    {
        if (name is null) throw new InvalidInputException($"VALL-E X needs the {what} language (en, zh or ja)");
        return ModelConfig.VallEXLanguageIds.TryGetValue(name, out int id)
            ? id
            : throw new InvalidInputException($"unknown {what} language '{name}' (expected en, zh or ja)");
    }
}
