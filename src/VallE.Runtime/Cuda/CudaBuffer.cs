using System.Runtime.InteropServices;

namespace VallE.Runtime.Cuda;

/// <summary>
/// One device allocation of <see cref="Bytes"/> bytes. Copies go through the owning device's stream and wait for
/// it, so a download sees every kernel enqueued before it (the stream is non-blocking: a plain cudaMemcpy would
/// not order with it).
/// </summary>
public sealed unsafe class CudaBuffer : IDisposable
{
    private readonly DeviceMemoryHandle _handle;
    private readonly CudaDevice _device;

    public long Bytes { get; }

    /// <summary>The device pointer (valid until Dispose).</summary>
    public nint Pointer => _handle.DangerousGetHandle();

    internal CudaBuffer(CudaDevice device, long bytes)
    {
        if (bytes < 0) throw new ArgumentOutOfRangeException(nameof(bytes));
        _device = device;
        Bytes = bytes;
        _handle = new DeviceMemoryHandle();
        nint ptr = 0;
        // cudaMalloc(0) returns a null pointer; allocate one byte so that every buffer has a distinct address.
        CudaException.Check(CudaRuntimeNative.Malloc(&ptr, (nuint)Math.Max(bytes, 1)), $"cudaMalloc({bytes} bytes)");
        _handle.Set(ptr);
    }

    /// <summary>Pointer to element <paramref name="index"/> of a buffer of <typeparamref name="T"/>.</summary>
    public nint At<T>(long index) where T : unmanaged => Pointer + checked((nint)(index * sizeof(T)));

    public void Upload<T>(ReadOnlySpan<T> source, long offsetElements = 0) where T : unmanaged
    {
        long bytes = (long)source.Length * sizeof(T);
        CheckRange(offsetElements * sizeof(T), bytes);
        fixed (T* src = source)
        {
            CudaException.Check(CudaRuntimeNative.MemcpyAsync(At<T>(offsetElements), (nint)src, (nuint)bytes,
                CudaRuntimeNative.MemcpyHostToDevice, _device.Stream), "cudaMemcpyAsync(host to device)");
            _device.Synchronize(); // the host span may be freed or reused as soon as we return
        }
    }

    public void Download<T>(Span<T> destination, long offsetElements = 0) where T : unmanaged
    {
        long bytes = (long)destination.Length * sizeof(T);
        CheckRange(offsetElements * sizeof(T), bytes);
        fixed (T* dst = destination)
        {
            CudaException.Check(CudaRuntimeNative.MemcpyAsync((nint)dst, At<T>(offsetElements), (nuint)bytes,
                CudaRuntimeNative.MemcpyDeviceToHost, _device.Stream), "cudaMemcpyAsync(device to host)");
            _device.Synchronize();
        }
    }

    public T[] Download<T>(long count) where T : unmanaged
    {
        var result = new T[count];
        Download<T>(result);
        return result;
    }

    /// <summary>Sets every byte to zero (enqueued on the device's stream).</summary>
    public void Clear() =>
        CudaException.Check(CudaRuntimeNative.MemsetAsync(Pointer, 0, (nuint)Bytes, _device.Stream), "cudaMemsetAsync");

    private void CheckRange(long offset, long bytes)
    {
        if (offset < 0 || bytes < 0 || offset + bytes > Bytes)
            throw new ArgumentOutOfRangeException(nameof(offset), $"copy of {bytes} bytes at {offset} exceeds the {Bytes}-byte buffer");
    }

    public void Dispose() => _handle.Dispose();
}
