using VallE.Runtime.Cuda;
using VallE.Weights;

namespace VallE.Native;

/// <summary>
/// The C ABI's return codes: the CLI's exit codes (docs/architecture.md, "Contracts between parts"), decided here
/// and nowhere else.
/// </summary>
internal static class ReturnCodes
{
    public const int Ok = 0;
    public const int Internal = 1;
    public const int Usage = 2;
    public const int InvalidInput = 3;
    public const int Cancelled = 130;

    /// <summary>
    /// The code and the one-line message for an exception that reached an entry point. In the C ABI the JSON is the
    /// caller's command line: a bad value in it (an <see cref="ArgumentException"/> of the library's option checks) is
    /// a usage error, unless the library says the cause is an input (an <see cref="InvalidInputException"/> inside,
    /// e.g. a language espeak-ng does not know).
    /// </summary>
    public static (int Code, string Message) Of(Exception e) => e switch
    {
        UsageException => (Usage, e.Message),
        InputException => (InvalidInput, e.Message),
        System.Text.Json.JsonException => (Usage, $"malformed JSON: {OneLine(e.Message)}"),
        InvalidInputException => (InvalidInput, OneLine(e.Message)),                     // NativeDependencyException too
        CudaException c => (c.IsOutOfMemory ? InvalidInput : Internal, OneLine(e.Message)),
        ValleException => (Internal, OneLine(e.Message)),
        OperationCanceledException => (Cancelled, "cancelled"),
        ObjectDisposedException => (Cancelled, "cancelled: the engine was closed"),
        OutOfMemoryException => (InvalidInput, "out of memory (input too large for this machine?)"),
        ArgumentException { InnerException: InvalidInputException inner } => (InvalidInput, OneLine(e.Message.Length > 0 ? e.Message : inner.Message)),
        ArgumentException a => (Usage, OneLine(StripParamName(a))),
        DllNotFoundException or EntryPointNotFoundException or BadImageFormatException =>
            (InvalidInput, $"a native library is missing or unusable: {OneLine(e.Message)}"),
        _ => (Internal, $"internal error: {e.GetType().Name}: {OneLine(e.Message)} (this is a bug; please report it)"),
    };

    /// <summary>ArgumentException.Message without the " (Parameter 'x')" suffix the runtime appends.</summary>
    private static string StripParamName(ArgumentException a)
    {
        string m = a.Message;
        if (a.ParamName is { } p && m.EndsWith($" (Parameter '{p}')", StringComparison.Ordinal)) m = m[..^($" (Parameter '{p}')".Length)];
        return m;
    }

    private static string OneLine(string text)
    {
        text = text.Trim();
        int nl = text.IndexOfAny(['\r', '\n']);
        return nl < 0 ? text : text[..nl];
    }
}

/// <summary>A malformed call: NULL argument, missing or unknown JSON field, wrong type (rc 2).</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>An input the ABI layer itself rejects (unknown voice, empty text) (rc 3).</summary>
internal sealed class InputException(string message) : Exception(message);
