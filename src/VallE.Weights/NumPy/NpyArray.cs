using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace VallE.Weights.NumPy;

/// <summary>Element types the NumPy reader understands (little-endian or byte-sized only).</summary>
public enum NpyType { Bool, Int8, UInt8, Int16, Int32, Int64, Float16, Float32, Float64 }

/// <summary>
/// A dense C-ordered array read from (or to be written to) a <c>.npy</c> file. Data is held as raw
/// little-endian bytes; the typed accessors convert with range checks.
/// </summary>
public sealed class NpyArray
{
    public NpyType Type { get; }
    public long[] Shape { get; }
    public byte[] Data { get; }

    public NpyArray(NpyType type, long[] shape, byte[] data)
    {
        long bytes;
        try { bytes = checked(ElementCount(shape) * ItemSize(type)); }
        catch (OverflowException) { throw new ArgumentException($"shape ({string.Join(", ", shape)}) of {type} overflows", nameof(shape)); }
        if (bytes != data.LongLength)
            throw new ArgumentException($"data has {data.LongLength} bytes, shape ({string.Join(", ", shape)}) of {type} needs {bytes}");
        Type = type;
        Shape = shape;
        Data = data;
    }

    public long Count => ElementCount(Shape);
    public int Rank => Shape.Length;

    public static int ItemSize(NpyType t) => t switch
    {
        NpyType.Bool or NpyType.Int8 or NpyType.UInt8 => 1,
        NpyType.Int16 or NpyType.Float16 => 2,
        NpyType.Int32 or NpyType.Float32 => 4,
        _ => 8,
    };

    public static long ElementCount(ReadOnlySpan<long> shape)
    {
        long n = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new ArgumentException("negative dimension");
            n = checked(n * d);
        }
        return n;
    }

    public static NpyArray FromInt64(ReadOnlySpan<long> values, params long[] shape)
    {
        var bytes = MemoryMarshal.AsBytes(values).ToArray();
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
        return new NpyArray(NpyType.Int64, shape, bytes);
    }

    public static NpyArray FromFloat32(ReadOnlySpan<float> values, params long[] shape)
    {
        var bytes = MemoryMarshal.AsBytes(values).ToArray();
        return new NpyArray(NpyType.Float32, shape, bytes);
    }

    /// <summary>Integer contents as int64 (any integer or bool type). Throws for floating-point arrays.</summary>
    public long[] ToInt64()
    {
        long n = Count;
        var result = new long[n];
        ReadOnlySpan<byte> d = Data;
        switch (Type)
        {
            case NpyType.Int64: MemoryMarshal.Cast<byte, long>(d).CopyTo(result); break;
            case NpyType.Int32: for (int i = 0; i < n; i++) result[i] = BinaryPrimitives.ReadInt32LittleEndian(d[(4 * i)..]); break;
            case NpyType.Int16: for (int i = 0; i < n; i++) result[i] = BinaryPrimitives.ReadInt16LittleEndian(d[(2 * i)..]); break;
            case NpyType.Int8: for (int i = 0; i < n; i++) result[i] = (sbyte)d[i]; break;
            case NpyType.UInt8 or NpyType.Bool: for (int i = 0; i < n; i++) result[i] = d[i]; break;
            default: throw new InvalidInputException($"expected an integer array, found {Type}");
        }
        return result;
    }

    /// <summary>Contents converted to float32.</summary>
    public float[] ToFloat32()
    {
        long n = Count;
        var result = new float[n];
        ReadOnlySpan<byte> d = Data;
        switch (Type)
        {
            case NpyType.Float32: MemoryMarshal.Cast<byte, float>(d).CopyTo(result); break;
            case NpyType.Float64: for (int i = 0; i < n; i++) result[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(d[(8 * i)..]); break;
            case NpyType.Float16: for (int i = 0; i < n; i++) result[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(d[(2 * i)..]); break;
            default:
                var ints = ToInt64();
                for (int i = 0; i < n; i++) result[i] = ints[i];
                break;
        }
        return result;
    }

    public override string ToString() => $"{Type}[{string.Join(", ", Shape)}]";
}
