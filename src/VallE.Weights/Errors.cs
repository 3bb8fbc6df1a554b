namespace VallE;

/// <summary>
/// Process exit codes shared by every `valle` command. They are part of the CLI contract:
/// scripts and tests outside the repository rely on them.
/// </summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary>An unexpected internal error (a bug): reported in one line, never as a raw trace.</summary>
    public const int InternalError = 1;
    /// <summary>Bad command line: unknown option, missing argument, value out of range.</summary>
    public const int Usage = 2;
    /// <summary>Invalid or unsupported input (file, tensor, shape, token) or a missing native dependency.</summary>
    public const int InvalidInput = 3;
    /// <summary>Interrupted by the user (Ctrl-C), as shells report SIGINT.</summary>
    public const int Cancelled = 130;
}

/// <summary>Base of every error that is expected to reach the user with a clear message and an exit code.</summary>
public class ValleException : Exception
{
    public int ExitCode { get; }

    public ValleException(string message, int exitCode, Exception? inner = null)
        : base(message, inner) => ExitCode = exitCode;
}

/// <summary>
/// An input (checkpoint, NumPy file, WAV, text, tensor) is corrupt, hostile, of the wrong shape, or unsupported.
/// The message names the offending entry or tensor. Maps to exit code 3.
/// </summary>
public class InvalidInputException : ValleException
{
    public InvalidInputException(string message, Exception? inner = null)
        : base(message, ExitCodes.InvalidInput, inner) { }
}

/// <summary>A native library (libespeak-ng, ONNX Runtime, CUDA) or device is missing or unusable. Exit code 3.</summary>
public sealed class NativeDependencyException : InvalidInputException
{
    public NativeDependencyException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The command line is wrong (option value out of range, conflicting options). Exit code 2.</summary>
public sealed class UsageException : ValleException
{
    public UsageException(string message) : base(message, ExitCodes.Usage) { }
}
