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
        ArgumentException { InnerException: InvalidInputException } => (InvalidInput, StripParamName(e)),
        ArgumentException a => (Usage, OneLine(StripParamName(a))),
        DllNotFoundException or EntryPointNotFoundException or BadImageFormatException =>
            (InvalidInput, $"a native library is missing or unusable: {OneLine(e.Message)}"),
        _ => (Internal, $"internal error: {e.GetType().Name}: {OneLine(e.Message)} (this is a bug; please report it)"),
    };

    /// <summary>ArgumentException.Message without the " (Parameter 'x')" suffix the runtime appends.</summary>
    private static string StripParamName(Exception a)
    {
        string m = OneLine(a.Message);
        while (m.EndsWith("')", StringComparison.Ordinal) && m.LastIndexOf(" (Parameter '", StringComparison.Ordinal) is int i and >= 0)
            m = m[..i];
        return JsonName(a) is { } field ? $"\"{field}\": {m}" : m;
    }

    /// <summary>The JSON field of a library option an <see cref="ArgumentException"/> names (<c>ParamName</c> TopP: top_p).</summary>
    private static string? JsonName(Exception e) => (e as ArgumentException)?.ParamName switch
    {
        "TopK" => "top_k",
        "TopP" => "top_p",
        "Temperature" => "temperature",
        "MinP" => "min_p",
        "RepetitionPenalty" => "repetition_penalty",
        "RepetitionWindow" => "repetition_window",
        "MaxDuration" or "seconds" or "maxDuration" => "max_duration",
        // e-c-k-e-r/vall-e: EckerSettings.Create names the property.
        "Mode" => "mode",
        "Length" => "length",
        "DemaskSteps" => "demask_steps",
        "CfgStrength" => "cfg_strength",
        "CfgRescale" => "cfg_rescale",
        "NarTemperature" => "nar_temperature",
        "MinArTemperature" => "min_ar_temperature",
        "MinNarTemperature" => "min_nar_temperature",
        "RepetitionPenaltyDecay" => "repetition_penalty_decay",
        "LengthPenalty" => "length_penalty",
        _ => null,
    };

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
