using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VallE.Native;

/// <summary>
/// The exported C functions of <c>include/valle.h</c>. Every entry point catches everything: no managed exception
/// crosses into the host, whose process is never aborted by a bad argument (a NULL is rc 2; a dangling or foreign
/// <c>valle_engine *</c> is undefined behaviour, as in any C API). <see cref="ReturnCodes.Of"/> maps exceptions to
/// return codes and <see cref="LastError"/> keeps the message.
/// </summary>
public static unsafe class Exports
{
    /// <summary><c>int valle_engine_open(const char *options_json, valle_engine **out)</c></summary>
    [UnmanagedCallersOnly(EntryPoint = "valle_engine_open")]
    public static int EngineOpen(byte* optionsJson, nint* engineOut)
    {
        try
        {
            if (engineOut == null) throw new UsageException("valle_engine_open: out is NULL");
            *engineOut = 0;
            if (optionsJson == null) throw new UsageException("valle_engine_open: options_json is NULL");
            var engine = NativeEngine.Open(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(optionsJson));
            *engineOut = GCHandle.ToIntPtr(GCHandle.Alloc(engine));
            LastError.Clear();
            return ReturnCodes.Ok;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    /// <summary><c>int valle_synthesize(valle_engine *engine, const char *request_json, valle_audio_fn on_audio, void *user)</c></summary>
    [UnmanagedCallersOnly(EntryPoint = "valle_synthesize")]
    public static int Synthesize(nint engine, byte* requestJson, delegate* unmanaged<float*, nuint, int, void*, void> onAudio, void* user)
    {
        try
        {
            var e = NativeEngine.FromHandle(engine, "valle_synthesize");
            if (requestJson == null) throw new UsageException("valle_synthesize: request_json is NULL");
            if (onAudio == null) throw new UsageException("valle_synthesize: on_audio is NULL");
            e.Synthesize(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(requestJson), onAudio, user);
            LastError.Clear();
            return ReturnCodes.Ok;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    /// <summary><c>void valle_cancel(valle_engine *engine)</c>: any thread; NULL is a no-op.</summary>
    [UnmanagedCallersOnly(EntryPoint = "valle_cancel")]
    public static void Cancel(nint engine)
    {
        try
        {
            if (engine != 0) NativeEngine.FromHandle(engine, "valle_cancel").Cancel();
        }
        catch (Exception)
        {
            // Nothing to report to: valle_cancel returns nothing, and the call it targets reports its own outcome.
        }
    }

    /// <summary><c>const char *valle_last_error(void)</c>: this thread's message, "" if none.</summary>
    [UnmanagedCallersOnly(EntryPoint = "valle_last_error")]
    public static byte* LastErrorMessage() => LastError.Pointer;

    /// <summary><c>const char *valle_version(void)</c>: the library's version, e.g. "0.1.0"; static storage.</summary>
    [UnmanagedCallersOnly(EntryPoint = "valle_version")]
    public static byte* Version() => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(VersionUtf8.Value));

    /// <summary><c>void valle_engine_close(valle_engine *engine)</c>: cancels a call in progress, waits for it, frees everything; NULL is a no-op.</summary>
    [UnmanagedCallersOnly(EntryPoint = "valle_engine_close")]
    public static void EngineClose(nint engine)
    {
        if (engine == 0) return;
        try
        {
            var handle = GCHandle.FromIntPtr(engine);
            var target = handle.Target as NativeEngine;
            handle.Free();
            target?.Dispose();
        }
        catch (Exception)
        {
            // Disposing releases native resources; a failure there has no caller to report to and must not abort the host.
        }
    }

    private static int Fail(Exception e)
    {
        try
        {
            var (code, message) = ReturnCodes.Of(e);
            LastError.Set(message);
            return code;
        }
        catch (Exception)
        {
            return ReturnCodes.Internal;   // out of memory while reporting: the code still gets through
        }
    }

    private static class VersionUtf8
    {
        public static readonly byte[] Value = Make();

        private static byte[] Make()
        {
            Version v = typeof(ValleSpeechClient).Assembly.GetName().Version ?? new Version(0, 0, 0);
            string text = $"{v.Major}.{v.Minor}.{v.Build}";
            byte[] utf8 = GC.AllocateArray<byte>(text.Length + 1, pinned: true);
            System.Text.Encoding.ASCII.GetBytes(text, utf8);
            return utf8;
        }
    }
}
