using System.Runtime.InteropServices;

namespace VallE.Runtime.Onnx;

/// <summary>
/// A tensor handed to or returned by ONNX Runtime. Inputs wrap a managed array without copying (pinned until
/// disposed); outputs own memory ONNX Runtime allocated, readable as a span until disposed.
/// </summary>
public sealed unsafe class OnnxValue : IDisposable
{
    internal OrtValueHandle Handle { get; }
    private GCHandle _pin;

    public OrtElementType ElementType { get; }
    public long[] Shape { get; }
    public long ElementCount { get; }

    private OnnxValue(OrtValueHandle handle, OrtElementType type, long[] shape, GCHandle pin)
    {
        Handle = handle;
        ElementType = type;
        Shape = shape;
        ElementCount = shape.Aggregate(1L, (a, b) => a * b);
        _pin = pin;
    }

    /// <summary>A float32 tensor over <paramref name="data"/> (no copy; do not change the array while in use).</summary>
    public static OnnxValue FromFloat32(float[] data, params long[] shape) => Create(data, shape, OrtElementType.Float32, sizeof(float));

    /// <summary>An int64 tensor over <paramref name="data"/> (no copy).</summary>
    public static OnnxValue FromInt64(long[] data, params long[] shape) => Create(data, shape, OrtElementType.Int64, sizeof(long));

    private static OnnxValue Create(Array data, long[] shape, OrtElementType type, int itemSize)
    {
        OrtLibrary.EnsureLoaded();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (shape.Any(d => d < 0) || count != data.LongLength)
            throw new ArgumentException($"shape [{string.Join(", ", shape)}] does not hold {data.LongLength} elements");
        var pin = GCHandle.Alloc(data, GCHandleType.Pinned);
        var handle = new OrtValueHandle();
        try
        {
            nint value;
            fixed (long* dims = shape)
            {
                OrtLibrary.Check(((delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint>)OrtLibrary.Api[OrtNative.CreateTensorWithDataAsOrtValue])(
                    OrtLibrary.CpuMemory.DangerousGetHandle(), (void*)pin.AddrOfPinnedObject(), (nuint)(count * itemSize),
                    dims, (nuint)shape.Length, (int)type, &value));
            }
            handle.Own(value);
            return new OnnxValue(handle, type, (long[])shape.Clone(), pin);
        }
        catch
        {
            handle.Dispose();
            pin.Free();
            throw;
        }
    }

    /// <summary>Wraps an output value ORT returned; reads its type and shape.</summary>
    internal static OnnxValue FromOutput(nint value)
    {
        var handle = new OrtValueHandle();
        handle.Own(value);
        try
        {
            void** api = OrtLibrary.Api;
            int isTensor;
            OrtLibrary.Check(((delegate* unmanaged<nint, int*, nint>)api[OrtNative.IsTensor])(value, &isTensor));
            if (isTensor == 0) throw new InvalidInputException("the model returned a non-tensor output (sequence or map)");
            nint infoPtr;
            OrtLibrary.Check(((delegate* unmanaged<nint, nint*, nint>)api[OrtNative.GetTensorTypeAndShape])(value, &infoPtr));
            using var info = new OrtTensorInfoHandle();
            info.Own(infoPtr);
            var (type, shape) = OnnxSession.ReadTensorInfo(infoPtr);
            return new OnnxValue(handle, type, shape, default);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The tensor's elements (valid until this value is disposed).</summary>
    public ReadOnlySpan<T> Span<T>() where T : unmanaged
    {
        var expected = typeof(T) == typeof(float) ? OrtElementType.Float32
            : typeof(T) == typeof(long) ? OrtElementType.Int64
            : typeof(T) == typeof(int) ? OrtElementType.Int32
            : typeof(T) == typeof(double) ? OrtElementType.Float64
            : OrtElementType.Undefined;
        if (expected != ElementType) throw new InvalidOperationException($"tensor holds {ElementType}, not {typeof(T).Name}");
        ObjectDisposedException.ThrowIf(Handle.IsClosed, this);
        if (ElementCount == 0) return [];
        void* data;
        OrtLibrary.Check(((delegate* unmanaged<nint, void**, nint>)OrtLibrary.Api[OrtNative.GetTensorMutableData])(Handle.DangerousGetHandle(), &data));
        return new ReadOnlySpan<T>(data, checked((int)ElementCount));
    }

    public T[] ToArray<T>() where T : unmanaged => Span<T>().ToArray();

    public void Dispose()
    {
        Handle.Dispose();
        if (_pin.IsAllocated) _pin.Free();
    }
}
