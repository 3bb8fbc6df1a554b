using System.CommandLine;

namespace VallE.Cli.Commands;

/// <summary><c>valle generate</c>: Generate the 8-codebook code matrix from text tokens and prompt codes.</summary>
internal static class GenerateCommand
{
    public static Command Create(CliContext ctx)
    {
        var command = new Command("generate", "Generate the 8-codebook code matrix from text tokens and prompt codes.");
        command.SetAction(_ =>
        {
            ctx.Error("'generate' is not implemented in this build yet");
            return ExitCodes.InternalError;
        });
        return command;
    }
}
