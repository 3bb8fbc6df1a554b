namespace VallE.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // First Ctrl-C asks the running command to stop cleanly (temp files removed); a second one kills.
            if (!cts.IsCancellationRequested) { e.Cancel = true; cts.Cancel(); }
        };
        var context = new CliContext(Console.Out, Console.Error, cts.Token,
            Interactive: !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("CI") is null);
        return CliApp.Run(args, context);
    }
}
