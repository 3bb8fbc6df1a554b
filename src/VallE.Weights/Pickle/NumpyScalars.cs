using System.Buffers.Binary;

namespace VallE.Weights.Pickle;

/// <summary>
/// NumPy scalars (<c>np.float64(3.2)</c> as a saved loss, <c>np.int64</c> as a step count) pickle as
/// <c>numpy.core.multiarray.scalar(numpy.dtype('f8', False, True) + BUILD state, raw bytes)</c>. Training scripts
/// put them among checkpoint hyper-parameters, so the common kinds are decoded into plain values from their bytes;
/// nothing of NumPy is involved. Anything else stays inert.
/// </summary>
internal static class NumpyScalars
{
    public static bool IsScalarGlobal(string qualifiedName) =>
        qualifiedName is "numpy.core.multiarray.scalar" or "numpy._core.multiarray.scalar";

    public static bool TryDecode(PyTuple args, out object? value)
    {
        value = null;
        if (args.Count != 2 || args[0] is not PyInert { QualifiedName: "numpy.dtype", Args: PyTuple { Count: >= 1 } dtArgs } dtype
            || dtArgs[0] is not string code || args[1] is not byte[] raw)
            return false;
        // BUILD state (version, byteorder, ...): '<' little, '>' big, '|' / '=' not applicable or native.
        bool big = dtype.State is PyTuple { Count: >= 2 } st && st[1] is ">";
        if (big && raw.Length > 1) raw = raw.Reverse().ToArray();
        ReadOnlySpan<byte> b = raw;
        value = (code, raw.Length) switch
        {
            ("f8", 8) => BinaryPrimitives.ReadDoubleLittleEndian(b),
            ("f4", 4) => (double)BinaryPrimitives.ReadSingleLittleEndian(b),
            ("f2", 2) => (double)BinaryPrimitives.ReadHalfLittleEndian(b),
            ("i8", 8) => BinaryPrimitives.ReadInt64LittleEndian(b),
            ("i4", 4) => (long)BinaryPrimitives.ReadInt32LittleEndian(b),
            ("i2", 2) => (long)BinaryPrimitives.ReadInt16LittleEndian(b),
            ("i1", 1) => (long)(sbyte)b[0],
            ("u4", 4) => (long)BinaryPrimitives.ReadUInt32LittleEndian(b),
            ("u2", 2) => (long)BinaryPrimitives.ReadUInt16LittleEndian(b),
            ("u1", 1) => (long)b[0],
            ("u8", 8) when BinaryPrimitives.ReadUInt64LittleEndian(b) <= long.MaxValue => (long)BinaryPrimitives.ReadUInt64LittleEndian(b),
            ("b1", 1) => b[0] != 0,
            _ => null,
        };
        return value is not null;
    }
}
