using System.CommandLine;

namespace VallE.Cli.Commands;

/// <summary><c>valle encode</c>: Encode a WAV file to EnCodec codes with an ONNX encoder.</summary>
internal static class EncodeCommand
{
    public static Command Create(CliContext ctx)
    {
        var command = new Command("encode", "Encode a WAV file to EnCodec codes with an ONNX encoder.");
        command.SetAction(_ =>
        {
            ctx.Error("'encode' is not implemented in this build yet");
            return ExitCodes.InternalError;
        });
        return command;
    }
}
