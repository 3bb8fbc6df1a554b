using System.CommandLine;

namespace VallE.Cli.Commands;

/// <summary><c>valle phonemize</c>: Phonemize text with espeak-ng and map phonemes to token ids.</summary>
internal static class PhonemizeCommand
{
    public static Command Create(CliContext ctx)
    {
        var command = new Command("phonemize", "Phonemize text with espeak-ng and map phonemes to token ids.");
        command.SetAction(_ =>
        {
            ctx.Error("'phonemize' is not implemented in this build yet");
            return ExitCodes.InternalError;
        });
        return command;
    }
}
