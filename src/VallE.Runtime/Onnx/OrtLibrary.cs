using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using System.Text;

namespace VallE.Runtime.Onnx;

/// <summary>
/// The process's ONNX Runtime: located and loaded once, with one <c>OrtEnv</c> and one CPU memory description
/// that live as long as the process (ORT expects a single environment per process).
/// <para>Lookup order: an explicit path (CLI <c>--onnxruntime</c>), <c>$VALLE_ONNXRUNTIME</c>, the copy
/// <c>./build.sh</c> installs (<c>.deps/onnxruntime/libonnxruntime.so.1</c> in the application folder or any folder
/// above it, i.e. the repository), then the system loader (<c>libonnxruntime.so.1</c>, <c>libonnxruntime.so</c>).
/// Nothing found is a <see cref="NativeDependencyException"/> listing every place tried.</para>
/// </summary>
internal static unsafe class OrtLibrary
{
    public const string EnvVar = "VALLE_ONNXRUNTIME";

    private static readonly string[] SystemNames =
        OperatingSystem.IsWindows() ? ["onnxruntime.dll"]
        : OperatingSystem.IsMacOS() ? ["libonnxruntime.dylib", "/opt/homebrew/lib/libonnxruntime.dylib", "/usr/local/lib/libonnxruntime.dylib"]
        : ["libonnxruntime.so.1", "libonnxruntime.so"];

    private static readonly string BuildCopy = Path.Combine(".deps", "onnxruntime",
        OperatingSystem.IsWindows() ? "onnxruntime.dll" : OperatingSystem.IsMacOS() ? "libonnxruntime.dylib" : "libonnxruntime.so.1");

    private static readonly Lock Gate = new();
    private static nint s_handle;
    private static void** s_api;
    private static string? s_path;
    private static string? s_version;
    private static OrtEnvHandle? s_env;
    private static OrtMemoryInfoHandle? s_cpuMemory;

    static OrtLibrary()
    {
        // An event, not SetDllImportResolver: the assembly's single resolver slot stays free for other bindings.
        var context = AssemblyLoadContext.GetLoadContext(typeof(OrtLibrary).Assembly) ?? AssemblyLoadContext.Default;
        context.ResolvingUnmanagedDll += (Assembly assembly, string name) =>
            name == OrtNative.LibraryName && assembly == typeof(OrtLibrary).Assembly ? s_handle : 0;
    }

    /// <summary>The OrtApi function table (valid after <see cref="EnsureLoaded"/>).</summary>
    public static void** Api => s_api != null ? s_api : throw new InvalidOperationException("ONNX Runtime is not loaded");

    public static string LibraryPath => s_path ?? "";
    public static string Version => s_version ?? "";
    public static OrtEnvHandle Env => s_env ?? throw new InvalidOperationException("ONNX Runtime is not loaded");
    public static OrtMemoryInfoHandle CpuMemory => s_cpuMemory ?? throw new InvalidOperationException("ONNX Runtime is not loaded");

    /// <summary>Loads the library (once per process) and creates the environment. Returns the library path and version.</summary>
    public static (string Path, string Version) EnsureLoaded(string? explicitPath = null)
    {
        lock (Gate)
        {
            if (s_api != null)
            {
                if (!string.IsNullOrEmpty(explicitPath) && RealPath(explicitPath) != RealPath(s_path!))
                    throw new NativeDependencyException(
                        $"ONNX Runtime is already loaded from {s_path}; cannot switch to {explicitPath} in the same process");
                return (s_path!, s_version!);
            }
            (nint handle, string path) = Locate(explicitPath);
            s_handle = handle;
            OrtNative.OrtApiBase* apiBase;
            try { apiBase = OrtNative.GetApiBase(); }
            catch (EntryPointNotFoundException)
            {
                throw new NativeDependencyException($"{path} does not export OrtGetApiBase: not an ONNX Runtime library");
            }
            string version = Utf8(apiBase->GetVersionString());
            void** api = apiBase->GetApi(OrtNative.ApiVersion);
            if (api == null)
                throw new NativeDependencyException($"ONNX Runtime {version} at {path} is too old: version 1.{OrtNative.ApiVersion} or newer is required");
            s_api = api;
            s_path = path;
            s_version = version;

            var env = new OrtEnvHandle();
            nint envPtr;
            byte[] logId = "valle\0"u8.ToArray();
            fixed (byte* id = logId)
                Check(((delegate* unmanaged<int, byte*, nint*, nint>)api[OrtNative.CreateEnv])(OrtNative.LoggingLevelError, id, &envPtr));
            env.Own(envPtr);
            var memory = new OrtMemoryInfoHandle();
            nint memPtr;
            Check(((delegate* unmanaged<int, int, nint*, nint>)api[OrtNative.CreateCpuMemoryInfo])(OrtNative.AllocatorArena, OrtNative.MemTypeDefault, &memPtr));
            memory.Own(memPtr);
            s_env = env;
            s_cpuMemory = memory;
            return (path, version);
        }
    }

    /// <summary>Turns a returned <c>OrtStatus*</c> into an exception (and releases it); null means success.</summary>
    public static void Check(nint status, string? context = null)
    {
        if (status == 0) return;
        using var owned = new OrtStatusHandle();
        owned.Own(status);
        int code = ((delegate* unmanaged<nint, int>)s_api[OrtNative.GetErrorCode])(status);
        string message = Utf8(((delegate* unmanaged<nint, byte*>)s_api[OrtNative.GetErrorMessage])(status));
        string text = context is null ? $"ONNX Runtime: {message}" : $"{context}: {message}";
        throw new OnnxRuntimeException(text, code);
    }

    /// <summary>The execution providers compiled into the loaded library (e.g. CPUExecutionProvider, CUDAExecutionProvider).</summary>
    public static IReadOnlyList<string> AvailableProviders()
    {
        byte** list;
        int count;
        Check(((delegate* unmanaged<byte***, int*, nint>)Api[OrtNative.GetAvailableProviders])(&list, &count));
        var names = new string[count];
        for (int i = 0; i < count; i++) names[i] = Utf8(list[i]);
        Check(((delegate* unmanaged<byte**, int, nint>)Api[OrtNative.ReleaseAvailableProviders])(list, count));
        return names;
    }

    public static string Utf8(byte* s) => s == null ? "" : Marshal.PtrToStringUTF8((nint)s) ?? "";

    public static byte[] NulTerminated(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    private static (nint Handle, string Path) Locate(string? explicitPath)
    {
        var tried = new List<string>();
        string? requested = !string.IsNullOrEmpty(explicitPath) ? explicitPath
            : Environment.GetEnvironmentVariable(EnvVar) is { Length: > 0 } env ? env : null;
        if (requested is not null)
        {
            string source = !string.IsNullOrEmpty(explicitPath) ? "the library path given" : $"${EnvVar}";
            string full = System.IO.Path.GetFullPath(requested);
            if (File.Exists(full)) return (LoadFile(full, source), full);
            // A stale environment variable should not hide a working copy: note it and keep looking.
            if (!string.IsNullOrEmpty(explicitPath))
                throw new NativeDependencyException($"ONNX Runtime not found at {full} (from {source})");
            tried.Add($"{full} (from {source}: missing)");
        }
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = System.IO.Path.GetDirectoryName(dir))
        {
            string candidate = System.IO.Path.Combine(dir, BuildCopy);
            if (File.Exists(candidate)) return (LoadFile(candidate, "the build's copy"), candidate);
        }
        tried.Add($".deps/onnxruntime above {AppContext.BaseDirectory}");
        foreach (string name in SystemNames)
        {
            if (NativeLibrary.TryLoad(name, out nint handle)) return (handle, name);
            tried.Add(name);
        }
        throw new NativeDependencyException(
            $"ONNX Runtime not found (tried {string.Join(", ", tried)}); run ./build.sh deps, " +
            $"or set {EnvVar} (or pass its path) to libonnxruntime.so.1 (1.13 or newer)");
    }

    private static nint LoadFile(string path, string source)
    {
        try { return NativeLibrary.Load(path); }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            throw new NativeDependencyException($"cannot load ONNX Runtime from {path} (from {source}): {e.Message}");
        }
    }

    private static string RealPath(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        try { return new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full; }
        catch (IOException) { return full; }
    }
}

/// <summary>An error ONNX Runtime reported (bad model, shape mismatch at run time, ...).</summary>
public sealed class OnnxRuntimeException : InvalidInputException
{
    /// <summary>OrtErrorCode (1 FAIL, 2 INVALID_ARGUMENT, 3 NO_SUCHFILE, 4 NO_MODEL, ..., 7 INVALID_PROTOBUF, ...).</summary>
    public int ErrorCode { get; }

    public OnnxRuntimeException(string message, int errorCode) : base(message) => ErrorCode = errorCode;
}
