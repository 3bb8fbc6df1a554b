namespace VallE.Cli;

/// <summary>
/// What a command needs from its host: where to write, whether a person is watching (progress bars), and the
/// cancellation token tied to Ctrl-C. Tests run commands in-process with their own writers.
/// </summary>
public sealed record CliContext(TextWriter Out, TextWriter Err, CancellationToken Cancellation, bool Interactive)
{
    public static CliContext ForTest(TextWriter output, TextWriter error) =>
        new(output, error, CancellationToken.None, Interactive: false);

    /// <summary>Prints a one-line error the way every command does: <c>valle: error: ...</c>.</summary>
    public void Error(string message) => Err.WriteLine($"valle: error: {message}");

    public void Warn(string message) => Err.WriteLine($"valle: warning: {message}");

    public void Info(string message) => Err.WriteLine($"valle: {message}");
}
