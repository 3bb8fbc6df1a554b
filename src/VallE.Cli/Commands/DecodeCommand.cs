using System.CommandLine;

namespace VallE.Cli.Commands;

/// <summary><c>valle decode</c>: Decode EnCodec codes to a WAV file with an ONNX decoder.</summary>
internal static class DecodeCommand
{
    public static Command Create(CliContext ctx)
    {
        var command = new Command("decode", "Decode EnCodec codes to a WAV file with an ONNX decoder.");
        command.SetAction(_ =>
        {
            ctx.Error("'decode' is not implemented in this build yet");
            return ExitCodes.InternalError;
        });
        return command;
    }
}
