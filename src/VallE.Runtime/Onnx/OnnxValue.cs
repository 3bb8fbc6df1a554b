using Ort = Microsoft.ML.OnnxRuntime;

namespace VallE.Runtime.Onnx;

/// <summary>
/// A tensor handed to or returned by ONNX Runtime (the package's <see cref="Ort.OrtValue"/>). Inputs wrap a managed
/// array without copying (pinned until disposed); outputs own memory ONNX Runtime allocated, readable as a span
/// until disposed.
/// </summary>
public sealed class OnnxValue : IDisposable
{
    internal Ort.OrtValue Value { get; }
    private bool _disposed;

    public OrtElementType ElementType { get; }
    public long[] Shape { get; }
    public long ElementCount { get; }

    private OnnxValue(Ort.OrtValue value, OrtElementType type, long[] shape)
    {
        Value = value;
        ElementType = type;
        Shape = shape;
        ElementCount = shape.Aggregate(1L, (a, b) => a * b);
    }

    /// <summary>A float32 tensor over <paramref name="data"/> (no copy; do not change the array while in use).</summary>
    public static OnnxValue FromFloat32(float[] data, params long[] shape) => Create(data, shape, OrtElementType.Float32);

    /// <summary>An int64 tensor over <paramref name="data"/> (no copy).</summary>
    public static OnnxValue FromInt64(long[] data, params long[] shape) => Create(data, shape, OrtElementType.Int64);

    private static OnnxValue Create<T>(T[] data, long[] shape, OrtElementType type) where T : unmanaged
    {
        _ = OrtRuntime.Env;
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (shape.Any(d => d < 0) || count != data.LongLength)
            throw new ArgumentException($"shape [{string.Join(", ", shape)}] does not hold {data.LongLength} elements");
        long[] dims = (long[])shape.Clone();
        Ort.OrtValue value;
        try { value = Ort.OrtValue.CreateTensorValueFromMemory(data, dims); }
        catch (Ort.OnnxRuntimeException e) { throw OrtRuntime.Wrap(e, "cannot create an ONNX Runtime tensor"); }
        return new OnnxValue(value, type, dims);
    }

    /// <summary>Wraps (and owns) an output value ONNX Runtime returned; reads its type and shape.</summary>
    internal static OnnxValue FromOutput(Ort.OrtValue value)
    {
        try
        {
            if (!value.IsTensor) throw new InvalidInputException("the model returned a non-tensor output (sequence or map)");
            var info = value.GetTensorTypeAndShape();
            return new OnnxValue(value, (OrtElementType)(int)info.ElementDataType, info.Shape);
        }
        catch
        {
            value.Dispose();
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
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (ElementCount == 0) return [];
        return Value.GetTensorDataAsSpan<T>();
    }

    public T[] ToArray<T>() where T : unmanaged => Span<T>().ToArray();

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Value.Dispose();
    }
}
