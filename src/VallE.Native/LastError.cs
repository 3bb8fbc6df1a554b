using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace VallE.Native;

/// <summary>
/// <c>valle_last_error</c>: a per-thread, NUL-terminated UTF-8 message in a pinned array owned by the library.
/// It lives on the pinned object heap, so the GC never moves it and frees it once the thread has ended and the
/// array is no longer referenced; a longer message replaces the array (the old pointer is then invalid, as the
/// contract says: valid until the next <c>valle_engine_open</c>/<c>valle_synthesize</c> on that thread).
/// </summary>
internal static unsafe class LastError
{
    [ThreadStatic] private static byte[]? t_message;
    private static readonly byte[] Empty = GC.AllocateArray<byte>(1, pinned: true);

    public static byte* Pointer => Address(t_message ?? Empty);

    public static void Clear()
    {
        if (t_message is { } buffer) buffer[0] = 0;
    }

    public static void Set(string message)
    {
        // A message never contains NUL bytes (C would cut it there anyway).
        message = message.Replace('\0', ' ');
        int length = Encoding.UTF8.GetByteCount(message);
        byte[]? buffer = t_message;
        if (buffer is null || buffer.Length < length + 1)
            buffer = t_message = GC.AllocateArray<byte>(Math.Max(256, length + 1), pinned: true);
        Encoding.UTF8.GetBytes(message, buffer);
        buffer[length] = 0;
    }

    private static byte* Address(byte[] pinned) => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));
}
