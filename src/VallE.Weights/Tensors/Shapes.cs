namespace VallE.Weights;

/// <summary>
/// Element and byte counts of shapes that come from files, computed with overflow checks. A file can claim any
/// dimensions: an unchecked product wraps (2^61 int64 elements are "0 bytes") and passes the size comparison
/// meant to catch it, and the allocation that follows fails with an OverflowException or OutOfMemoryException,
/// which the CLI must report as a bug. Here it is an <see cref="InvalidInputException"/> naming the field.
/// </summary>
public static class Shapes
{
    /// <summary>
    /// Bytes of a dense array of <paramref name="shape"/> with <paramref name="itemSize"/>-byte elements.
    /// As in NumPy, the product of the non-zero dimensions must fit in 64 bits even when a zero makes the array
    /// empty, so that strides and sizes derived from the other dimensions cannot overflow either.
    /// </summary>
    /// <param name="field">what the shape is, for the message: "header shape", "tensor 'w': shape".</param>
    public static long ByteCount(ReadOnlySpan<long> shape, int itemSize, string field)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(itemSize, 1);
        long product = itemSize;
        bool empty = false;
        foreach (long d in shape)
        {
            if (d < 0) throw new InvalidInputException($"{field} {Format(shape)} has a negative dimension");
            if (d == 0) { empty = true; continue; }
            if (product > long.MaxValue / d)
                throw new InvalidInputException($"{field} {Format(shape)} has too many elements (its size overflows 64 bits)");
            product *= d;
        }
        return empty ? 0 : product;
    }

    /// <summary>Elements of a dense array of <paramref name="shape"/> (see <see cref="ByteCount"/>).</summary>
    public static long ElementCount(ReadOnlySpan<long> shape, string field) => ByteCount(shape, 1, field);

    /// <summary>"[2, 3]": how messages print a shape.</summary>
    public static string Format(ReadOnlySpan<long> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
}
