using System.CommandLine;

namespace VallE.Cli.Commands;

/// <summary><c>valle inspect</c>: Show a checkpoint's family, hyper-parameters and tensors.</summary>
internal static class InspectCommand
{
    public static Command Create(CliContext ctx)
    {
        var command = new Command("inspect", "Show a checkpoint's family, hyper-parameters and tensors.");
        command.SetAction(_ =>
        {
            ctx.Error("'inspect' is not implemented in this build yet");
            return ExitCodes.InternalError;
        });
        return command;
    }
}
