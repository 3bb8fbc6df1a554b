using System.CommandLine;
using VallE.Runtime.Codec;

namespace VallE.Cli.Commands;

/// <summary>
/// <c>--vocoder encodec|vocos</c> of <c>decode</c> and <c>synth</c>. The decoder file decides what runs (both kinds take
/// the same codes through <see cref="EncodecDecoder"/>); the option states what the file should be, and a model whose
/// metadata declares the other kind is refused. Without it, whatever the file declares is used.
/// </summary>
internal sealed class VocoderCliOption
{
    public Option<string?> Option { get; } = new("--vocoder")
    {
        HelpName = "encodec|vocos",
        Description = "What --codec-decoder is: EnCodec's decoder (tools/export_encodec_onnx.py) or Vocos " +
                      "(tools/export_vocos_onnx.py). Default: what the model declares (EnCodec if nothing).",
    };

    public void AddTo(Command command) => command.Options.Add(Option);

    public Vocoder? Read(ParseResult parse)
    {
        string? value = parse.GetValue(Option);
        if (value is null) return null;
        return VocoderNames.Parse(value) ?? throw new UsageException($"--vocoder must be encodec or vocos, not '{value}'");
    }

    /// <summary>Checks an opened decoder against the requested vocoder (when one was given) and returns the decoder.</summary>
    public static EncodecDecoder Check(EncodecDecoder decoder, Vocoder? requested)
    {
        if (requested is { } v)
        {
            try { decoder.Expect(v); }
            catch { decoder.Dispose(); throw; }
        }
        return decoder;
    }
}
