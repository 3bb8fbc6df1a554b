using System.CommandLine;

namespace VallE.Cli.Commands;

/// <summary><c>valle synth</c>: Text + 3 s prompt recording to speech (WAV).</summary>
internal static class SynthCommand
{
    public static Command Create(CliContext ctx)
    {
        var command = new Command("synth", "Text + 3 s prompt recording to speech (WAV).");
        command.SetAction(_ =>
        {
            ctx.Error("'synth' is not implemented in this build yet");
            return ExitCodes.InternalError;
        });
        return command;
    }
}
