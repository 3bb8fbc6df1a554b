using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using System.Text;

namespace VallE.Runtime.Text.Espeak;

/// <summary>
/// The process's one copy of libespeak-ng. espeak-ng keeps its voice, dictionaries and output buffers in
/// global variables and is not thread-safe, so this class loads and initialises it once and runs every call
/// under one lock. Nothing is ever unloaded: other phonemizers in the process may still use it.
/// <para>
/// Lookup order for the library: an explicit path (CLI <c>--espeak-lib</c>), then <c>$VALLE_ESPEAK_LIB</c>,
/// then the system loader (<c>libespeak-ng.so.1</c>, ...). Data folder: an explicit path
/// (<c>--espeak-data</c>), then <c>$VALLE_ESPEAK_DATA</c>, then espeak-ng's own default (which honours
/// <c>$ESPEAK_DATA_PATH</c>).
/// </para>
/// </summary>
internal static unsafe class EspeakLibrary
{
    public const string LibraryEnvVar = "VALLE_ESPEAK_LIB";
    public const string DataEnvVar = "VALLE_ESPEAK_DATA";

    public const string InstallHint =
        "install it (Debian/Ubuntu: apt-get install libespeak-ng1; macOS: brew install espeak-ng) " +
        $"or set {LibraryEnvVar} to the path of libespeak-ng";

    /// <summary>Names handed to the system loader, most specific first.</summary>
    private static readonly string[] SystemNames =
        OperatingSystem.IsWindows() ? ["libespeak-ng.dll", "espeak-ng.dll"]
        : OperatingSystem.IsMacOS() ? ["libespeak-ng.1.dylib", "libespeak-ng.dylib", "/opt/homebrew/lib/libespeak-ng.dylib", "/usr/local/lib/libespeak-ng.dylib"]
        : ["libespeak-ng.so.1", "libespeak-ng.so"];

    /// <summary>Exports checked right after loading, so an old or foreign library fails with a clear message.</summary>
    private static readonly string[] RequiredExports =
    [
        "espeak_ng_InitializePath", "espeak_ng_Initialize", "espeak_ng_InitializeOutput",
        "espeak_ng_ClearErrorContext", "espeak_ng_GetStatusCodeMessage", "espeak_Info", "espeak_ListVoices",
        "espeak_SetVoiceByName", "espeak_GetCurrentVoice", "espeak_TextToPhonemes",
    ];

    private static readonly Lock Gate = new();
    private static nint s_handle;            // the loaded library; read by the import resolver
    private static Loaded? s_loaded;         // set once initialisation succeeded
    private static string? s_initFailure;    // espeak itself failed to initialise: retrying cannot help
    private static string? s_currentVoice;   // identifier of the voice espeak has selected now
    private static string? s_libraryPath;    // where s_handle came from

    private sealed record Loaded(EspeakInfo Info, IReadOnlyList<EspeakVoice> Voices,
        IReadOnlyDictionary<string, string> IdentifierByLanguage);

    static EspeakLibrary()
    {
        // LibraryImport binds "valle-espeak-ng" lazily; no loader knows that name, so the lookup ends here and
        // gets the handle located below. An event (not SetDllImportResolver) leaves the assembly's one
        // resolver slot free for other native bindings.
        var context = AssemblyLoadContext.GetLoadContext(typeof(EspeakLibrary).Assembly) ?? AssemblyLoadContext.Default;
        context.ResolvingUnmanagedDll += ResolveImport;
    }

    private static nint ResolveImport(Assembly assembly, string name) =>
        name == EspeakNative.LibraryName && assembly == typeof(EspeakLibrary).Assembly ? s_handle : 0;

    /// <summary>
    /// Loads and initialises espeak-ng once per process; later calls return what was loaded. An explicit
    /// library or data path that differs from the one already in use is an error (the library is global).
    /// </summary>
    public static EspeakInfo EnsureInitialized(string? libraryPath = null, string? dataPath = null)
    {
        lock (Gate)
        {
            string? requestedData = ResolveDataPath(dataPath);
            if (s_loaded is { } loaded)
            {
                CheckSameLibrary(loaded, libraryPath, requestedData);
                return loaded.Info;
            }
            if (s_initFailure is not null) throw new NativeDependencyException(s_initFailure);

            if (s_handle == 0)
            {
                (nint handle, string path) = LoadLibrary(libraryPath);
                s_handle = handle;
                s_libraryPath = path;
            }
            s_loaded = Initialize(s_libraryPath!, requestedData);
            return s_loaded.Info;
        }
    }

    /// <summary>The voices of the installed espeak-ng, in espeak's order (most relevant first per language).</summary>
    public static IReadOnlyList<EspeakVoice> Voices => (s_loaded ?? throw NotInitialized()).Voices;

    /// <summary>The identifier of the first voice whose language code is <paramref name="language"/>, as phonemizer picks it.</summary>
    public static string? FindVoice(string language) =>
        (s_loaded ?? throw NotInitialized()).IdentifierByLanguage.GetValueOrDefault(language);

    /// <summary>
    /// Phonemizes each chunk with the given voice exactly as phonemizer's <c>EspeakWrapper.text_to_phonemes</c>
    /// does: UTF-8 input, IPA output with <c>_</c> between phonemes, one <c>espeak_TextToPhonemes</c> call per
    /// clause, the non-empty clause outputs joined by a space. One lock acquisition for all chunks.
    /// </summary>
    public static string[] TextToPhonemes(string voiceIdentifier, IReadOnlyList<string> chunks)
    {
        var results = new string[chunks.Count];
        lock (Gate)
        {
            if (s_loaded is null) throw NotInitialized();
            SelectVoice(voiceIdentifier);
            for (int i = 0; i < chunks.Count; i++) results[i] = PhonemizeChunk(chunks[i]);
        }
        return results;
    }

    private static string PhonemizeChunk(string text)
    {
        const int phonemeMode = '_' << 8 | EspeakNative.PhonemesIpa; // phonemizer's mode for espeak >= 1.49, tie off
        byte[] utf8 = new byte[Encoding.UTF8.GetByteCount(text) + 1]; // + the terminating NUL
        Encoding.UTF8.GetBytes(text, utf8);
        var clauses = new List<string>();
        fixed (byte* start = utf8)
        {
            byte* cursor = start;
            while (cursor != null)
            {
                byte* before = cursor;
                byte* phonemes = EspeakNative.TextToPhonemes(&cursor, EspeakNative.CharsUtf8, phonemeMode);
                if (phonemes != null && *phonemes != 0) clauses.Add(Utf8String(phonemes));
                // espeak always advances or ends; if it ever did neither we would loop forever, so stop.
                if (cursor == before) break;
            }
        }
        return string.Join(' ', clauses);
    }

    private static void SelectVoice(string identifier)
    {
        if (s_currentVoice == identifier) return;
        s_currentVoice = null;
        byte[] name = NulTerminated(identifier);
        int status;
        fixed (byte* p = name) status = EspeakNative.SetVoiceByName(p);
        EspeakNative.VoiceStruct* voice = status == 0 ? EspeakNative.GetCurrentVoice() : null;
        if (voice == null || voice->Name == null)
            throw new InvalidInputException($"espeak-ng failed to load voice '{identifier}' (status {status})");
        s_currentVoice = identifier;
    }

    private static (nint Handle, string Path) LoadLibrary(string? explicitPath)
    {
        if (Requested(explicitPath, "the library path given", LibraryEnvVar) is var (source, requested))
        {
            string full = RequireLibraryFile(requested, source);
            nint handle;
            try { handle = NativeLibrary.Load(full); }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                throw new NativeDependencyException($"cannot load libespeak-ng from {full} (from {source}): {e.Message}");
            }
            CheckExports(handle, full);
            return (handle, full);
        }

        foreach (string name in SystemNames)
        {
            if (NativeLibrary.TryLoad(name, out nint handle))
            {
                CheckExports(handle, name);
                return (handle, LoadedFilePath(name) ?? name);
            }
        }
        throw new NativeDependencyException(
            $"libespeak-ng not found (tried {string.Join(", ", SystemNames)}); {InstallHint}");
    }

    /// <summary>The path asked for, and by what: the explicit option first, then the environment variable.</summary>
    private static (string Source, string Path)? Requested(string? explicitPath, string option, string envVar)
    {
        if (!string.IsNullOrEmpty(explicitPath)) return (option, explicitPath);
        if (Environment.GetEnvironmentVariable(envVar) is { Length: > 0 } env) return ($"${envVar}", env);
        return null;
    }

    private static string RequireLibraryFile(string path, string source)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new NativeDependencyException($"libespeak-ng not found at {full} (from {source}); {InstallHint}");
        return full;
    }

    /// <summary>Where the system loader found <paramref name="name"/> (Linux: from /proc/self/maps), for messages.</summary>
    private static string? LoadedFilePath(string name)
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            string stem = name.Split(".so")[0];
            foreach (string line in File.ReadLines("/proc/self/maps"))
            {
                int slash = line.IndexOf('/');
                if (slash >= 0 && Path.GetFileName(line.AsSpan(slash)).StartsWith(stem, StringComparison.Ordinal))
                    return line[slash..].Trim();
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    /// <summary>A file's path with every symbolic link resolved, to compare two names of one library.</summary>
    private static string RealPath(string path)
    {
        string full = Path.GetFullPath(path);
        try { return new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full; }
        catch (IOException) { return full; }
    }

    private static void CheckExports(nint handle, string path)
    {
        foreach (string export in RequiredExports)
        {
            if (!NativeLibrary.TryGetExport(handle, export, out _))
                throw new NativeDependencyException(
                    $"{path} does not export {export}: espeak-ng 1.49 or newer is required; {InstallHint}");
        }
    }

    /// <summary>
    /// Validates a requested data folder up front: espeak-ng silently falls back to its default when the folder
    /// it is given is wrong, which would hide the user's mistake. Accepts the espeak-ng-data folder or its parent.
    /// </summary>
    private static string? ResolveDataPath(string? explicitPath)
    {
        if (Requested(explicitPath, "the data path given", DataEnvVar) is not var (source, requested)) return null;

        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(requested));
        if (File.Exists(Path.Combine(full, "espeak-ng-data", "phontab"))) return full;
        if (File.Exists(Path.Combine(full, "phontab")))
        {
            // Every espeak-ng release accepts the parent of a folder named espeak-ng-data; only newer ones
            // accept the data folder itself (older ones would silently use their default instead).
            string? parent = Path.GetDirectoryName(full);
            return Path.GetFileName(full) == "espeak-ng-data" && parent is not null ? parent : full;
        }
        throw new NativeDependencyException(
            $"espeak-ng data not found at {full} (from {source}): expected the espeak-ng-data folder (it holds " +
            "'phontab') or the folder containing it; install espeak-ng-data (apt-get install espeak-ng-data)");
    }

    private static Loaded Initialize(string libraryPath, string? dataPath)
    {
        // espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, path, 0), as phonemizer calls it, exit()s the process
        // when the data is missing; the espeak_ng_* calls it is made of report an error instead.
        byte[]? pathBytes = dataPath is null ? null : NulTerminated(dataPath);
        fixed (byte* p = pathBytes) EspeakNative.InitializePath(p);

        nint context = 0;
        int status = EspeakNative.Initialize(&context);
        if (status != 0)
        {
            EspeakNative.ClearErrorContext(&context);
            s_initFailure = $"espeak-ng failed to initialise ({StatusMessage(status)}) with data from " +
                $"{dataPath ?? "its default location"}; install espeak-ng-data (apt-get install espeak-ng-data) " +
                $"or set {DataEnvVar} to the espeak-ng-data folder";
            throw new NativeDependencyException(s_initFailure);
        }
        EspeakNative.InitializeOutput(EspeakNative.OutputModeSynchronous, 0, null);

        byte* actualData = null;
        byte* version = EspeakNative.Info(&actualData);
        var info = new EspeakInfo(libraryPath, version == null ? "?" : Utf8String(version),
            actualData == null ? "?" : Utf8String(actualData));

        var voices = ListVoices();
        var byLanguage = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var voice in voices) byLanguage.TryAdd(voice.Language, voice.Identifier); // first voice wins
        return new Loaded(info, voices, byLanguage);
    }

    private static List<EspeakVoice> ListVoices()
    {
        var voices = new List<EspeakVoice>();
        EspeakNative.VoiceStruct** list = EspeakNative.ListVoices(null);
        for (int i = 0; list != null && list[i] != null; i++)
        {
            EspeakNative.VoiceStruct* v = list[i];
            string name = v->Name == null ? "" : Utf8String(v->Name).Replace('_', ' ');
            // languages = priority byte, then the first language code; phonemizer drops the priority byte.
            string language = v->Languages == null || v->Languages[0] == 0 ? "" : Utf8String(v->Languages + 1);
            string identifier = v->Identifier == null ? "" : Utf8String(v->Identifier);
            voices.Add(new EspeakVoice(name, language, identifier));
        }
        return voices;
    }

    private static void CheckSameLibrary(Loaded loaded, string? libraryPath, string? requestedData)
    {
        if (!string.IsNullOrEmpty(libraryPath) && RealPath(RequireLibraryFile(libraryPath, "the library path given")) != RealPath(loaded.Info.LibraryPath))
            throw new NativeDependencyException(
                $"libespeak-ng is already loaded from {loaded.Info.LibraryPath}; one process cannot switch to {libraryPath}");
        if (requestedData is not null && DataFolder(requestedData) != DataFolder(loaded.Info.DataPath))
            throw new NativeDependencyException(
                $"espeak-ng is already initialised with data from {loaded.Info.DataPath}; one process cannot switch to {requestedData}");
    }

    /// <summary>The espeak-ng-data folder meant by a data path (the folder or its parent), links resolved.</summary>
    private static string DataFolder(string path)
    {
        string inner = Path.Combine(path, "espeak-ng-data");
        string folder = Directory.Exists(inner) ? inner : path;
        try { return new DirectoryInfo(folder).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(folder); }
        catch (IOException) { return Path.GetFullPath(folder); }
    }

    private static string StatusMessage(int status)
    {
        byte* buffer = stackalloc byte[512];
        buffer[0] = 0;
        EspeakNative.GetStatusCodeMessage(status, buffer, 512);
        string text = Utf8String(buffer);
        return text.Length > 0 ? text : $"status 0x{status:x8}";
    }

    private static InvalidOperationException NotInitialized() =>
        new("espeak-ng is not initialised: call EspeakLibrary.EnsureInitialized first");

    private static string Utf8String(byte* p) =>
        Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(p));

    private static byte[] NulTerminated(string s)
    {
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }
}
