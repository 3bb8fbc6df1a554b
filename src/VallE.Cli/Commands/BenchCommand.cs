using System.CommandLine;

namespace VallE.Cli.Commands;

/// <summary><c>valle bench</c>: Benchmark the runtime against PyTorch references.</summary>
internal static class BenchCommand
{
    public static Command Create(CliContext ctx)
    {
        var command = new Command("bench", "Benchmark the runtime against PyTorch references.");
        command.SetAction(_ =>
        {
            ctx.Error("'bench' is not implemented in this build yet");
            return ExitCodes.InternalError;
        });
        return command;
    }
}
