namespace VallE.Runtime.Codec;

/// <summary>
/// What turns EnCodec codes into audio. Both take the decoder contract of <see cref="EncodecContract"/> (codes int64
/// [B, 8, T] -> audio float32 [B, 1, 320 T]) and run through <see cref="EncodecDecoder"/>; they differ in sound.
/// </summary>
public enum Vocoder
{
    /// <summary>EnCodec's own decoder (tools/export_encodec_onnx.py).</summary>
    Encodec,
    /// <summary>Vocos for EnCodec codes, charactr/vocos-encodec-24khz at 6 kbps (tools/export_vocos_onnx.py).</summary>
    Vocos,
}

public static class VocoderNames
{
    /// <summary>The ONNX metadata key our exports use to say which vocoder a decoder model is.</summary>
    public const string MetadataKey = "valle.vocoder";

    public static string Name(this Vocoder vocoder) => vocoder == Vocoder.Vocos ? "vocos" : "encodec";

    /// <summary>"encodec" or "vocos" (any case); null for anything else.</summary>
    public static Vocoder? Parse(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "encodec" => Vocoder.Encodec,
        "vocos" => Vocoder.Vocos,
        _ => null,
    };
}
