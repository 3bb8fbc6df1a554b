using System.CommandLine;

namespace VallE.Cli.Commands;

/// <summary><c>valle convert</c>: Convert a checkpoint to model.safetensors + config.json.</summary>
internal static class ConvertCommand
{
    public static Command Create(CliContext ctx)
    {
        var command = new Command("convert", "Convert a checkpoint to model.safetensors + config.json.");
        command.SetAction(_ =>
        {
            ctx.Error("'convert' is not implemented in this build yet");
            return ExitCodes.InternalError;
        });
        return command;
    }
}
