namespace VallE;

/// <summary>
/// Base of the errors the libraries raise for a cause outside the program (a bad input, a missing native
/// dependency, a device fault), with a message meant for the user. The libraries know nothing of processes or exit
/// codes: a front end (the <c>valle</c> CLI) decides what each type means to it. Invalid option values passed to a
/// library API are <see cref="ArgumentException"/>s naming the property instead.
/// </summary>
public class ValleException : Exception
{
    public ValleException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// An input (checkpoint, NumPy file, WAV, text, tensor) is corrupt, hostile, of the wrong shape, or unsupported.
/// The message names the offending entry or tensor.
/// </summary>
public class InvalidInputException : ValleException
{
    public InvalidInputException(string message, Exception? inner = null) : base(message, inner) { }

    /// <summary>
    /// The library setting (property or parameter name, e.g. <c>EnrollTokens</c>, <c>maxSeconds</c>) whose value
    /// would change the outcome, when there is one; null otherwise. The message says it in library terms; a front end
    /// can map it to its own option to add a hint (the CLI appends the flag).
    /// </summary>
    public string? Setting { get; init; }
}

/// <summary>A native library (libespeak-ng, ONNX Runtime, CUDA) or device is missing or unusable.</summary>
public sealed class NativeDependencyException : InvalidInputException
{
    public NativeDependencyException(string message, Exception? inner = null) : base(message, inner) { }
}
