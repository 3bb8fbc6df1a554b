using VallE.Weights;

namespace VallE.Tests.Weights;

/// <summary>Checked shape arithmetic: overflow is an <see cref="InvalidInputException"/> naming the field, never a wrapped size.</summary>
public class ShapesTests
{
    [Test]
    public void CountsElementsAndBytes()
    {
        Assert.That(Shapes.ElementCount([2, 3, 4], "shape"), Is.EqualTo(24));
        Assert.That(Shapes.ByteCount([2, 3, 4], 8, "shape"), Is.EqualTo(192));
        Assert.That(Shapes.ElementCount([], "shape"), Is.EqualTo(1), "a scalar");
        Assert.That(Shapes.ByteCount([0, 1L << 40], 8, "shape"), Is.Zero, "empty, and 2^40 * 8 fits");
    }

    [Test]
    public void OverflowNamesTheField()
    {
        var e = Assert.Throws<InvalidInputException>(() => Shapes.ByteCount([1L << 61], 8, "x.npy: header shape"));
        Assert.That(e!.Message, Is.EqualTo("x.npy: header shape [2305843009213693952] has too many elements (its size overflows 64 bits)"));
        // A zero makes the array empty, but the other dimensions must still be representable (as NumPy requires).
        Assert.Throws<InvalidInputException>(() => Shapes.ElementCount([0, long.MaxValue, 2], "shape"));
        Assert.That(Assert.Throws<InvalidInputException>(() => Shapes.ElementCount([2, -1], "shape"))!.Message,
            Is.EqualTo("shape [2, -1] has a negative dimension"));
    }

    [Test]
    public void TensorViewsThatCannotBeCountedOrCopiedAreInvalidInput()
    {
        var storage = new ArrayTensorStorage("s", DType.Float32, new byte[16]);
        // Both dimensions overflow together even though each fits.
        Assert.That(Assert.Throws<InvalidInputException>(() => new TensorData("w", DType.Float32, [1L << 32, 1L << 32], [0, 0], 0, storage))!.Message,
            Does.Contain("tensor 'w': shape [4294967296, 4294967296] has too many elements"));
        Assert.That(Assert.Throws<InvalidInputException>(() => new TensorData("w", DType.Float32, [2], [1], long.MaxValue, storage))!.Message,
            Does.Contain("tensor 'w'"));
        // A stride-0 view of 2^62 elements is countable, but not in bytes, and too large to copy.
        var repeated = new TensorData("r", DType.Float32, [1L << 62], [0], 0, storage);
        Assert.That(Assert.Throws<InvalidInputException>(() => _ = repeated.ByteCount)!.Message, Does.Contain("tensor 'r'"));
        Assert.That(Assert.Throws<InvalidInputException>(() => repeated.ToFloat32())!.Message, Does.Contain("tensor 'r' has 4611686018427387904 elements"));
    }

    [Test]
    public void TensorsOver2GiBAreInvalidInputWhenReadAsOneBlock()
    {
        var big = new TensorData("big", DType.UInt8, [3L << 30], [1], 0, new HugeStorage());
        Assert.That(Assert.Throws<InvalidInputException>(() => _ = big.ContiguousBytes.Length)!.Message, Does.Contain("tensor 'big' has 3221225472 bytes"));
        Assert.That(Assert.Throws<InvalidInputException>(() => big.ToInt64())!.Message, Does.Contain("tensor 'big' has 3221225472 elements"));
    }

    /// <summary>Claims 3 GiB and must never be read.</summary>
    private sealed class HugeStorage() : TensorStorage("huge", DType.UInt8)
    {
        public override long ByteLength => 3L << 30;
        public override ReadOnlySpan<byte> Slice(long byteOffset, int byteCount) => throw new AssertionException("read of a storage that does not exist");
    }
}
