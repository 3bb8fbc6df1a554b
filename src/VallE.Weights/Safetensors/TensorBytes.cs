using System.Runtime.InteropServices;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace VallE.Weights.Safetensors;

/// <summary>
/// Streams a tensor's elements in C order, optionally converted to another floating dtype, in bounded chunks
/// (no whole-tensor copy, whatever the tensor's size or strides).
/// </summary>
public static class TensorBytes
{
    private const int ChunkElements = 1 << 16;

    /// <summary>Writes <paramref name="tensor"/> densely as <paramref name="target"/> (same dtype, or float to float).</summary>
    public static void WriteTo(Stream stream, TensorData tensor, DType target)
    {
        if (tensor.DType != target && !(tensor.DType.IsFloatingPoint() && target.IsFloatingPoint()))
            throw new InvalidInputException($"tensor '{tensor.Name}': cannot convert {tensor.DType.ShortName()} to {target.ShortName()}");
        int size = tensor.DType.SizeOf();
        var gather = tensor.IsContiguous ? null : new byte[ChunkElements * size];
        float[]? floats = tensor.DType == target ? null : new float[ChunkElements];
        byte[]? converted = tensor.DType == target ? null : new byte[ChunkElements * target.SizeOf()];
        var index = new long[tensor.Rank];
        for (long done = 0; done < tensor.ElementCount;)
        {
            int n = (int)Math.Min(ChunkElements, tensor.ElementCount - done);
            ReadOnlySpan<byte> source = gather is null
                ? tensor.Storage.Slice((tensor.Offset + done) * size, n * size)
                : Gather(tensor, index, n, gather);
            if (floats is null) stream.Write(source);
            else
            {
                // f32 sources convert straight from the mapped bytes; others widen to f32 first.
                ReadOnlySpan<float> wide = tensor.DType == DType.Float32 ? MemoryMarshal.Cast<byte, float>(source) : floats.AsSpan(0, n);
                if (tensor.DType != DType.Float32) TensorData.Convert(source, tensor.DType, floats.AsSpan(0, n));
                FromFloat32(wide, target, converted.AsSpan(0, n * target.SizeOf()));
                stream.Write(converted.AsSpan(0, n * target.SizeOf()));
            }
            done += n;
        }
    }

    /// <summary>Copies the next <paramref name="count"/> elements of a strided view, advancing <paramref name="index"/>.</summary>
    private static ReadOnlySpan<byte> Gather(TensorData t, long[] index, int count, byte[] buffer)
    {
        int size = t.DType.SizeOf();
        for (int i = 0; i < count; i++)
        {
            long element = t.Offset;
            for (int d = 0; d < index.Length; d++) element += index[d] * t.Strides[d];
            t.Storage.Slice(element * size, size).CopyTo(buffer.AsSpan(i * size, size));
            for (int d = index.Length - 1; d >= 0; d--)
            {
                if (++index[d] < t.Shape[d]) break;
                index[d] = 0;
            }
        }
        return buffer.AsSpan(0, count * size);
    }

    /// <summary>float32 to f32/f16/bf16/f64 little-endian bytes (round to nearest even).</summary>
    public static void FromFloat32(ReadOnlySpan<float> source, DType target, Span<byte> destination)
    {
        switch (target)
        {
            case DType.Float32:
                MemoryMarshal.AsBytes(source).CopyTo(destination);
                break;
            case DType.Float16:
                TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<byte, Half>(destination));
                break;
            case DType.BFloat16:
                ToBFloat16(source, MemoryMarshal.Cast<byte, ushort>(destination));
                break;
            case DType.Float64:
                var doubles = MemoryMarshal.Cast<byte, double>(destination);
                for (int i = 0; i < source.Length; i++) doubles[i] = source[i];
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(target), $"not a floating dtype: {target}");
        }
    }

    /// <summary>Vectorised <see cref="ToBFloat16(float)"/> over a span (same results, element for element).</summary>
    public static void ToBFloat16(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        var bits = MemoryMarshal.Cast<float, uint>(source);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var one = Vector256.Create(1u);
            var bias = Vector256.Create(0x7FFFu);
            var quiet = Vector256.Create(0x40u);
            var absMask = Vector256.Create(0x7FFFFFFFu);
            var infinity = Vector256.Create(0x7F800000u);
            for (; i <= bits.Length - 16; i += 16)
            {
                var lo = Round(Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(bits), (nuint)i));
                var hi = Round(Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(bits), (nuint)(i + 8)));
                Vector256.Narrow(lo, hi).StoreUnsafe(ref MemoryMarshal.GetReference(destination), (nuint)i);
            }

            Vector256<uint> Round(Vector256<uint> b)
            {
                var rounded = Vector256.ShiftRightLogical(b + bias + (Vector256.ShiftRightLogical(b, 16) & one), 16);
                var nan = Vector256.GreaterThan(b & absMask, infinity);
                return Vector256.ConditionalSelect(nan, Vector256.ShiftRightLogical(b, 16) | quiet, rounded);
            }
        }
        for (; i < bits.Length; i++) destination[i] = ToBFloat16(source[i]);
    }

    /// <summary>Rounds a float32 to bfloat16 (nearest, ties to even), keeping NaN a (quiet) NaN as PyTorch does.</summary>
    public static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}
