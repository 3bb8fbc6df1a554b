using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Ort = Microsoft.ML.OnnxRuntime;

namespace VallE.Runtime.Onnx;

/// <summary>
/// The process's ONNX Runtime, from the Microsoft.ML.OnnxRuntime package: its native library ships in the package
/// (<c>runtimes/&lt;rid&gt;/native</c>, copied next to the application) and the package's own loader finds it.
/// This class creates the one <c>OrtEnv</c> (logging errors only) and turns the package's failures into ours:
/// a native library that does not load is a <see cref="NativeDependencyException"/>, an error ONNX Runtime reports
/// is an <see cref="OnnxRuntimeException"/>; both are one line.
/// </summary>
internal static partial class OrtRuntime
{
    private static readonly Lock Gate = new();
    private static Ort.OrtEnv? s_env;
    private static string? s_failure;

    /// <summary>The environment, created on first use; throws <see cref="NativeDependencyException"/> when the native library is unusable.</summary>
    public static Ort.OrtEnv Env
    {
        get
        {
            if (s_env is { } env) return env;
            lock (Gate)
            {
                if (s_env is not null) return s_env;
                if (s_failure is not null) throw new NativeDependencyException(s_failure);
                try
                {
                    var created = Ort.OrtEnv.Instance();
                    created.EnvLogLevel = Ort.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR;
                    s_env = created;
                    return created;
                }
                catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or EntryPointNotFoundException
                                              or BadImageFormatException or Ort.OnnxRuntimeException)
                {
                    // The package's static initialiser fails once and for all; remember the reason for later callers.
                    Exception root = e;
                    while (root is TypeInitializationException { InnerException: { } inner }) root = inner;
                    s_failure = $"ONNX Runtime does not load: {Diagnose(root)} (valle ships it, from NuGet Microsoft.ML.OnnxRuntime: rebuild or reinstall valle)";
                    throw new NativeDependencyException(s_failure, e);
                }
            }
        }
    }

    /// <summary>Our exception for one the package threw: its "[ErrorCode:X] " prefix becomes <see cref="OnnxRuntimeException.ErrorCode"/>.</summary>
    public static OnnxRuntimeException Wrap(Ort.OnnxRuntimeException e, string context)
    {
        string message = e.Message;
        int code = 1; // FAIL
        var m = CodePrefix().Match(message);
        if (m.Success)
        {
            int known = Array.IndexOf(ErrorCodeNames, m.Groups[1].Value);
            if (known > 0) code = known;
            message = message[m.Length..];
        }
        return new OnnxRuntimeException($"{context}: {FirstLine(message)}", code, e);
    }

    /// <summary>OrtErrorCode names as the package prints them, at their numeric value.</summary>
    private static readonly string[] ErrorCodeNames =
    [
        "Ok", "Fail", "InvalidArgument", "NoSuchFile", "NoModel", "EngineError", "RuntimeException", "InvalidProtobuf",
        "ModelLoaded", "NotImplemented", "InvalidGraph", "ShapeInferenceNotRegistered", "RequirementNotRegistered",
    ];

    /// <summary>Which copy of the native library is at fault and why, in one line.</summary>
    private static string Diagnose(Exception root)
    {
        string lib = OperatingSystem.IsWindows() ? "onnxruntime.dll" : OperatingSystem.IsMacOS() ? "libonnxruntime.dylib" : "libonnxruntime.so";
        string baseDir = AppContext.BaseDirectory;
        string[] candidates =
        [
            Path.Combine(baseDir, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", lib),   // dotnet build / framework-dependent
            Path.Combine(baseDir, lib),                                                              // RID-specific publish
        ];
        foreach (string candidate in candidates.Where(File.Exists))
        {
            try { NativeLibrary.Free(NativeLibrary.Load(candidate)); }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                // The loader's own reason (dlerror: "invalid ELF header", "file too short", a missing dependency...) ends the message.
                string reason = e.Message.Split(':', StringSplitOptions.TrimEntries).LastOrDefault(t => t.Length > 0) ?? "";
                return $"{candidate}: not a loadable library ({FirstLine(reason)})";
            }
            return $"{candidate} loads, but {FirstLine(root.Message)}";
        }
        return $"{lib} is missing (expected at {candidates[0]})";
    }

    private static string FirstLine(string text)
    {
        text = text.Trim();
        int nl = text.IndexOfAny(['\r', '\n']);
        return nl < 0 ? text : text[..nl];
    }

    [GeneratedRegex(@"^\[ErrorCode:(\w+)\]\s*")]
    private static partial Regex CodePrefix();
}

/// <summary>An error ONNX Runtime reported (bad model, shape mismatch at run time, ...), prefixed with the model path.</summary>
public sealed class OnnxRuntimeException : InvalidInputException
{
    /// <summary>OrtErrorCode (1 FAIL, 2 INVALID_ARGUMENT, 3 NO_SUCHFILE, 4 NO_MODEL, ..., 7 INVALID_PROTOBUF, ...).</summary>
    public int ErrorCode { get; }

    public OnnxRuntimeException(string message, int errorCode, Exception? inner = null) : base(message, inner) => ErrorCode = errorCode;
}
