namespace VallE.Runtime.Onnx;

/// <summary>ONNXTensorElementDataType values (equal to the package's <c>TensorElementType</c>; the subset a codec model uses is named, others print as numbers).</summary>
public enum OrtElementType
{
    Undefined = 0,
    Float32 = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Float64 = 11,
    UInt32 = 12,
    UInt64 = 13,
}

/// <summary>Name, element type and shape of a model input or output; dimensions below 0 are dynamic.</summary>
public sealed record OnnxTensorInfo(string Name, OrtElementType ElementType, long[] Shape)
{
    public override string ToString() =>
        $"'{Name}' {ElementType.ToString().ToLowerInvariant()} [{string.Join(", ", Shape.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]";
}
