using System.Runtime.InteropServices;

namespace VallE.Runtime.Text.Espeak;

/// <summary>
/// The few libespeak-ng entry points the phonemizer needs, as source-generated P/Invokes. Every signature is
/// blittable (pointers and ints), so the generated stubs marshal nothing. The library name is a placeholder
/// that no loader finds on its own: <see cref="EspeakLibrary"/> resolves it to the copy it located.
/// Never call these directly: espeak-ng keeps process-global state, so every call must hold
/// <see cref="EspeakLibrary"/>'s gate.
/// </summary>
internal static unsafe partial class EspeakNative
{
    public const string LibraryName = "valle-espeak-ng";

    // speak_lib.h / espeak_ng.h constants.
    public const int CharsUtf8 = 1;                 // espeakCHARS_UTF8
    public const int PhonemesIpa = 0x02;            // phoneme_mode bit 1: IPA as UTF-8
    public const int OutputModeSynchronous = 0x0001; // ENOUTPUT_MODE_SYNCHRONOUS

    [LibraryImport(LibraryName, EntryPoint = "espeak_ng_InitializePath")]
    public static partial void InitializePath(byte* path);

    [LibraryImport(LibraryName, EntryPoint = "espeak_ng_Initialize")]
    public static partial int Initialize(nint* errorContext);

    [LibraryImport(LibraryName, EntryPoint = "espeak_ng_InitializeOutput")]
    public static partial int InitializeOutput(int outputMode, int bufferLength, byte* device);

    [LibraryImport(LibraryName, EntryPoint = "espeak_ng_ClearErrorContext")]
    public static partial void ClearErrorContext(nint* errorContext);

    [LibraryImport(LibraryName, EntryPoint = "espeak_ng_GetStatusCodeMessage")]
    public static partial void GetStatusCodeMessage(int status, byte* buffer, nuint length);

    /// <summary><c>const char *espeak_Info(const char **path_data)</c>: version string, data path out.</summary>
    [LibraryImport(LibraryName, EntryPoint = "espeak_Info")]
    public static partial byte* Info(byte** dataPath);

    /// <summary><c>const espeak_VOICE **espeak_ListVoices(espeak_VOICE *spec)</c>: NULL-terminated array.</summary>
    [LibraryImport(LibraryName, EntryPoint = "espeak_ListVoices")]
    public static partial VoiceStruct** ListVoices(VoiceStruct* spec);

    [LibraryImport(LibraryName, EntryPoint = "espeak_SetVoiceByName")]
    public static partial int SetVoiceByName(byte* name);

    [LibraryImport(LibraryName, EntryPoint = "espeak_GetCurrentVoice")]
    public static partial VoiceStruct* GetCurrentVoice();

    /// <summary>
    /// <c>const char *espeak_TextToPhonemes(const void **textptr, int textmode, int phonememode)</c>: phonemes
    /// of one clause, in a buffer espeak reuses on the next call; advances <paramref name="textPtr"/> past the
    /// clause, or sets it to NULL at the end of the text.
    /// </summary>
    [LibraryImport(LibraryName, EntryPoint = "espeak_TextToPhonemes")]
    public static partial byte* TextToPhonemes(byte** textPtr, int textMode, int phonemeMode);

    /// <summary>
    /// The leading fields of <c>espeak_VOICE</c> (speak_lib.h). Only read through pointers espeak owns, so the
    /// trailing fields (gender, age, variant, score, spare) need not be declared.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct VoiceStruct
    {
        public byte* Name;
        /// <summary>Pairs of (priority byte, NUL-terminated language code), ended by a zero byte.</summary>
        public byte* Languages;
        /// <summary>The voice file's path below espeak-ng-data/voices, e.g. <c>gmw/en-US</c>.</summary>
        public byte* Identifier;
    }
}
