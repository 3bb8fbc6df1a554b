using System.Runtime.CompilerServices;

namespace VallE.Runtime.Cpu;

/// <summary>
/// A pinned, 64-byte-aligned byte buffer on the pinned object heap: packed weights live here so kernels can take a
/// raw pointer once, with cache-line-aligned panels and no unpinning work for the GC. Freed by the GC like any array.
/// </summary>
internal sealed unsafe class AlignedBuffer
{
    private const int Alignment = 64;
    private readonly byte[] _array;

    internal AlignedBuffer(long bytes)
    {
        if (bytes > Array.MaxLength - Alignment)
            throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "packed weights larger than one .NET array");
        _array = GC.AllocateArray<byte>((int)bytes + Alignment, pinned: true);   // zeroed: padding must be 0
        byte* start = (byte*)Unsafe.AsPointer(ref _array[0]);
        Pointer = (byte*)(((nuint)start + Alignment - 1) & ~(nuint)(Alignment - 1));
        Length = bytes;
    }

    internal byte* Pointer { get; }
    internal long Length { get; }

    internal Span<T> AsSpan<T>() where T : unmanaged => new(Pointer, checked((int)(Length / sizeof(T))));
}
