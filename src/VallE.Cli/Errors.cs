namespace VallE.Cli;

/// <summary>
/// Process exit codes shared by every `valle` command. They are part of the CLI contract:
/// scripts and tests outside the repository rely on them. <see cref="CliApp.Guard"/> maps exceptions to them.
/// </summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary>An unexpected internal error (a bug) or a device fault: reported in one line, never as a raw trace.</summary>
    public const int InternalError = 1;
    /// <summary>Bad command line: unknown option, missing argument, value out of range.</summary>
    public const int Usage = 2;
    /// <summary>Invalid or unsupported input (file, tensor, shape, token), a missing native dependency, or out of memory.</summary>
    public const int InvalidInput = 3;
    /// <summary>Interrupted by the user (Ctrl-C), as shells report SIGINT.</summary>
    public const int Cancelled = 130;
}

/// <summary>
/// The command line is wrong (option value out of range, conflicting options): exit code 2. The message names the
/// option as the user typed it. Thrown by the CLI only; library option checks throw <see cref="ArgumentException"/>,
/// which the option groups translate with <see cref="OptionErrors"/>.
/// </summary>
public sealed class UsageException : Exception
{
    public UsageException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// Turns an <see cref="ArgumentException"/> from a library option check into a <see cref="UsageException"/> naming
/// the CLI flag. Used only where options are read and validated: an <see cref="ArgumentException"/> from deeper
/// inside a command is a bug (exit 1), not a usage error.
/// </summary>
internal static class OptionErrors
{
    /// <summary>
    /// The message without .NET's " (Parameter 'X')" suffix, with a leading property name (the library's wording
    /// "TopP 1.5 must be ...") replaced by the flag ("--top-p 1.5 must be ...").
    /// </summary>
    public static UsageException ToUsage(ArgumentException e, IReadOnlyDictionary<string, string> flags)
    {
        string message = BareMessage(e);
        if (e.ParamName is { } name && flags.TryGetValue(name, out string? flag))
            message = message.StartsWith(name + " ", StringComparison.Ordinal) ? flag + message[name.Length..] : $"{flag}: {message}";
        return new UsageException(message, e);
    }

    /// <summary>
    /// <paramref name="e"/> with the CLI flag that sets its <see cref="InvalidInputException.Setting"/> appended
    /// (<c>"...; the limit is 30 s (--max-prompt-seconds)"</c>). Still an input error (exit 3).
    /// </summary>
    public static InvalidInputException WithFlag(InvalidInputException e, string hint) =>
        new($"{e.Message}{hint}", e) { Setting = e.Setting };

    /// <summary><see cref="Exception.Message"/> of an <see cref="ArgumentException"/> without the parameter suffix.</summary>
    public static string BareMessage(ArgumentException e)
    {
        string message = e.Message;
        if (e.ParamName is { Length: > 0 } name)
        {
            string suffix = $" (Parameter '{name}')";
            if (message.EndsWith(suffix, StringComparison.Ordinal)) message = message[..^suffix.Length];
        }
        return message;
    }
}
