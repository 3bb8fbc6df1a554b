using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace VallE.Weights;

/// <summary>
/// One named tensor of a checkpoint: a strided view (shape, strides and offset in elements, as PyTorch
/// records them) into a <see cref="TensorStorage"/>. The constructor proves the view lies inside its
/// storage, so readers never index out of bounds whatever the file claims.
/// </summary>
public sealed class TensorData
{
    public string Name { get; }
    public DType DType { get; }
    public long[] Shape { get; }
    public long[] Strides { get; }
    /// <summary>Offset of element [0, 0, ...] in the storage, in elements.</summary>
    public long Offset { get; }
    public TensorStorage Storage { get; }
    public long ElementCount { get; }

    public TensorData(string name, DType dtype, long[] shape, long[] strides, long offset, TensorStorage storage)
    {
        if (shape.Length != strides.Length)
            throw new InvalidInputException($"tensor '{name}': shape has {shape.Length} dims but strides {strides.Length}");
        if (offset < 0)
            throw new InvalidInputException($"tensor '{name}': negative storage offset {offset}");
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] < 0 || strides[i] < 0)
                throw new InvalidInputException($"tensor '{name}': negative size or stride in shape ({string.Join(", ", shape)}) strides ({string.Join(", ", strides)})");
        }
        long count = Shapes.ElementCount(shape, $"tensor '{name}': shape");
        long maxIndex = offset; // largest element index touched
        try
        {
            for (int i = 0; i < shape.Length; i++)
                if (shape[i] > 0) maxIndex = checked(maxIndex + (shape[i] - 1) * strides[i]);
        }
        catch (OverflowException)
        {
            throw new InvalidInputException(
                $"tensor '{name}': view (shape ({string.Join(", ", shape)}), strides ({string.Join(", ", strides)}), offset {offset}) overflows");
        }
        int size = dtype.SizeOf();
        long storageElements = storage.ByteLength / size;
        if (count > 0 && maxIndex >= storageElements)
            throw new InvalidInputException(
                $"tensor '{name}': view (shape ({string.Join(", ", shape)}), strides ({string.Join(", ", strides)}), offset {offset}) " +
                $"runs past its storage '{storage.Key}' of {storageElements} elements");
        Name = name;
        DType = dtype;
        Shape = shape;
        Strides = strides;
        Offset = offset;
        Storage = storage;
        ElementCount = count;
    }

    public int Rank => Shape.Length;

    /// <summary>
    /// Bytes of the tensor's elements written densely. Only a view that repeats its storage (stride 0) can be too
    /// large to count in bytes; that is an <see cref="InvalidInputException"/>, never a wrapped-around size.
    /// </summary>
    public long ByteCount => ElementCount <= long.MaxValue / DType.SizeOf()
        ? ElementCount * DType.SizeOf()
        : throw new InvalidInputException($"tensor '{Name}': {ElementCount} elements of {DType.ShortName()} overflow a 64-bit byte count");

    /// <summary>True when elements are laid out densely in C order.</summary>
    public bool IsContiguous
    {
        get
        {
            long expected = 1;
            for (int i = Shape.Length - 1; i >= 0; i--)
            {
                if (Shape[i] != 1 && Strides[i] != expected) return false;
                expected *= Shape[i];
            }
            return true;
        }
    }

    /// <summary>True when both tensors are the same view of the same storage (tied weights).</summary>
    public bool IsSameViewAs(TensorData other) =>
        ReferenceEquals(Storage, other.Storage) && Offset == other.Offset && DType == other.DType
        && Shape.AsSpan().SequenceEqual(other.Shape) && Strides.AsSpan().SequenceEqual(other.Strides);

    /// <summary>
    /// The bytes of a contiguous tensor, without copying. Throws for strided views, and
    /// <see cref="InvalidInputException"/> for tensors over 2 GiB (a span cannot hold them).
    /// </summary>
    public ReadOnlySpan<byte> ContiguousBytes
    {
        get
        {
            if (!IsContiguous) throw new InvalidOperationException($"tensor '{Name}' is not contiguous");
            if (ByteCount > int.MaxValue)
                throw new InvalidInputException($"tensor '{Name}' has {ByteCount} bytes; tensors over 2 GiB cannot be read as one block");
            return Storage.Slice(Offset * DType.SizeOf(), (int)ByteCount);
        }
    }

    /// <summary>Refuses to copy more elements than a .NET array holds (an InvalidInputException, not an OutOfMemoryException).</summary>
    private void CheckFitsInArray()
    {
        if (ElementCount > Array.MaxLength)
            throw new InvalidInputException($"tensor '{Name}' has {ElementCount} elements; at most {Array.MaxLength} can be loaded as one array");
    }

    /// <summary>Copies the tensor in C order into <paramref name="destination"/>, converting to float32.</summary>
    public void CopyTo(Span<float> destination)
    {
        if (destination.Length != ElementCount)
            throw new ArgumentException($"destination has {destination.Length} elements, tensor '{Name}' has {ElementCount}");
        if (!DType.IsFloatingPoint())
            throw new InvalidInputException($"tensor '{Name}' has dtype {DType.ShortName()}, expected floating point");
        if (ElementCount == 0) return;
        if (IsContiguous)
        {
            Convert(ContiguousBytes, DType, destination);
            return;
        }
        // Strided: walk rows of the innermost dimension.
        int rank = Shape.Length;
        int size = DType.SizeOf();
        long inner = Shape[rank - 1];
        long innerStride = Strides[rank - 1];
        var index = new long[rank];
        long written = 0;
        Span<byte> one = stackalloc byte[8];
        while (written < ElementCount)
        {
            long baseElem = Offset;
            for (int d = 0; d < rank - 1; d++) baseElem += index[d] * Strides[d];
            for (long j = 0; j < inner; j++)
            {
                var src = Storage.Slice((baseElem + j * innerStride) * size, size);
                Convert(src, DType, destination.Slice((int)(written + j), 1));
            }
            written += inner;
            for (int d = rank - 2; d >= 0; d--)
            {
                if (++index[d] < Shape[d]) break;
                index[d] = 0;
            }
        }
    }

    public float[] ToFloat32()
    {
        CheckFitsInArray();
        var result = new float[ElementCount];
        CopyTo(result);
        return result;
    }

    /// <summary>Integer tensors (int64/int32/...) as int64 in C order.</summary>
    public long[] ToInt64()
    {
        if (DType.IsFloatingPoint()) throw new InvalidInputException($"tensor '{Name}' is floating point, expected integers");
        if (!IsContiguous) throw new InvalidInputException($"tensor '{Name}': strided integer tensors are not supported");
        CheckFitsInArray();
        var result = new long[ElementCount];
        var bytes = ContiguousBytes;
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = DType switch
            {
                DType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(bytes[(8 * i)..]),
                DType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 * i)..]),
                DType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(bytes[(2 * i)..]),
                DType.Int8 => (sbyte)bytes[i],
                _ => bytes[i],
            };
        }
        return result;
    }

    /// <summary>Converts little-endian elements of <paramref name="type"/> to float32.</summary>
    public static void Convert(ReadOnlySpan<byte> source, DType type, Span<float> destination)
    {
        switch (type)
        {
            case DType.Float32:
                MemoryMarshal.Cast<byte, float>(source).CopyTo(destination);
                break;
            case DType.Float16:
                var halves = MemoryMarshal.Cast<byte, Half>(source);
                System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(halves, destination);
                break;
            case DType.BFloat16:
                var raw = MemoryMarshal.Cast<byte, ushort>(source);
                for (int i = 0; i < raw.Length; i++)
                    destination[i] = BitConverter.Int32BitsToSingle(raw[i] << 16);
                break;
            case DType.Float64:
                var doubles = MemoryMarshal.Cast<byte, double>(source);
                for (int i = 0; i < doubles.Length; i++) destination[i] = (float)doubles[i];
                break;
            default:
                throw new InvalidInputException($"cannot convert {type.ShortName()} to float32");
        }
    }

    public override string ToString() =>
        $"{Name}: {DType.ShortName()}[{string.Join(", ", Shape)}]";
}
