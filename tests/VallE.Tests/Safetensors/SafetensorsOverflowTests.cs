using System.Buffers.Binary;
using System.Text;
using VallE.Tests.Support;
using VallE.Weights;
using VallE.Weights.Safetensors;

namespace VallE.Tests.Safetensors;

/// <summary>
/// Safetensors headers with sizes and offsets near 2^63: every one an <see cref="InvalidInputException"/> naming the
/// tensor, never an OverflowException, and nothing allocated or mapped beyond the file.
/// </summary>
public class SafetensorsOverflowTests
{
    private static string OpenError(string header, int dataBytes, ulong? declaredLength = null)
    {
        byte[] h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)h.Length);
        h.CopyTo(bytes, 8);
        using var tmp = TestPaths.CreateTempDir();
        File.WriteAllBytes(tmp.File("bad.safetensors"), bytes);
        var e = Assert.Throws<InvalidInputException>(() => SafetensorsFile.Open(tmp.File("bad.safetensors")).Dispose());
        Assert.That(e!.Message, Does.StartWith("bad.safetensors: "));
        return e.Message;
    }

    [TestCase("""{"w": {"dtype": "F64", "shape": [2305843009213693952], "data_offsets": [0, 8]}}""", "tensor 'w': shape [2305843009213693952] has too many elements")]
    [TestCase("""{"w": {"dtype": "U8", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}}""", "has too many elements")]
    [TestCase("""{"w": {"dtype": "F32", "shape": [0, 9223372036854775807, 2], "data_offsets": [0, 0]}}""", "has too many elements")]
    [TestCase("""{"w": {"dtype": "U8", "shape": [9223372036854775807], "data_offsets": [0, 9223372036854775807]}}""", "outside the data region of 8 bytes")]
    [TestCase("""{"w": {"dtype": "U8", "shape": [7], "data_offsets": [9223372036854775800, 9223372036854775807]}}""", "outside the data region of 8 bytes")]
    [TestCase("""{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 9223372036854775808]}}""", "not a non-negative integer")]
    public void SizesNearTwoToThe63AreInvalidInput(string header, string message) =>
        Assert.That(OpenError(header, 8), Does.Contain(message));

    [TestCase(ulong.MaxValue, "is absurd")]
    [TestCase(99_999_999ul, "runs past the end of the file")]
    public void HeaderLengthLargerThanTheFileIsRefusedBeforeReading(ulong declared, string message) =>
        Assert.That(OpenError("{}", 0, declared), Does.Contain(message));

    [Test]
    public void ContiguousStridesOfAValidatedShapeDoNotOverflow()
    {
        // The product of the non-zero dimensions fits, so the strides do too.
        long[] shape = [0, 1L << 31, 1L << 31];
        Shapes.ElementCount(shape, "shape");
        Assert.That(SafetensorsFile.ContiguousStrides(shape), Is.EqualTo(new[] { 1L << 62, 1L << 31, 1L }));
    }
}
