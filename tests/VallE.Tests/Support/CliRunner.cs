using VallE.Cli;

namespace VallE.Tests.Support;

/// <summary>Runs `valle` in-process and captures what it prints.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Out, string Err)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Err}";
    }

    public static Result Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, CliContext.ForTest(output, error));
        return new Result(code, output.ToString(), error.ToString());
    }
}
