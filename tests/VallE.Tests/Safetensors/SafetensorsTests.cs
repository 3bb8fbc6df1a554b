using System.Buffers.Binary;
using System.Text;
using VallE.Tests.Models;
using VallE.Tests.Support;
using VallE.Weights;
using VallE.Weights.Safetensors;

namespace VallE.Tests.Safetensors;

public class SafetensorsTests
{
    [Test]
    public void RoundTripsDtypesShapesAndMetadata()
    {
        using var tmp = TestPaths.CreateTempDir();
        var rng = new Random(3);
        var a = InMemoryModels.Float32("a", [3, 5], rng);
        var scalar = InMemoryModels.Int64("count", [], 42);
        var empty = InMemoryModels.Float32("empty", [0, 4], rng);
        var odd = InMemoryModels.Float32("odd", [3], rng);
        string path = tmp.File("m.safetensors");
        SafetensorsWriter.Write(path,
        [
            new("odd", odd, DType.Float16), new("a", a, DType.Float32), new("count", scalar, DType.Int64), new("empty", empty, DType.Float32),
        ], new Dictionary<string, string> { ["k"] = "v" });

        using var file = SafetensorsFile.Open(path);
        Assert.That(file.Metadata["k"], Is.EqualTo("v"));
        Assert.That(file.ByName["a"].ToFloat32(), Is.EqualTo(a.ToFloat32()));
        Assert.That(file.ByName["a"].Shape, Is.EqualTo(new long[] { 3, 5 }));
        Assert.That(file.ByName["count"].ToInt64(), Is.EqualTo(new long[] { 42 }));
        Assert.That(file.ByName["count"].Shape, Is.Empty);
        Assert.That(file.ByName["empty"].ElementCount, Is.Zero);
        Assert.That(file.ByName["odd"].DType, Is.EqualTo(DType.Float16));
        Assert.That(file.ByName["odd"].ToFloat32(), Is.EqualTo(odd.ToFloat32()).Within(1e-3));
        // Header padded to 8 bytes; larger elements first so each tensor is aligned to its element size.
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(File.ReadAllBytes(path).AsSpan(0, 8));
        Assert.That(headerLength % 8, Is.Zero);
        Assert.That(file.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "count", "a", "empty", "odd" }));
    }

    [Test]
    public void WritesStridedViewsInCOrder()
    {
        using var tmp = TestPaths.CreateTempDir();
        float[] values = [0, 1, 2, 3, 4, 5]; // [2, 3] row-major
        var baseTensor = InMemoryModels.FromFloats("x", [2, 3], values);
        var transposed = new TensorData("t", DType.Float32, [3, 2], [1, 3], 0, baseTensor.Storage);
        SafetensorsWriter.Write(tmp.File("t.safetensors"), [new("t", transposed, DType.Float32)]);
        using var file = SafetensorsFile.Open(tmp.File("t.safetensors"));
        Assert.That(file.ByName["t"].ToFloat32(), Is.EqualTo(new float[] { 0, 3, 1, 4, 2, 5 }));
    }

    [Test]
    public void BFloat16RoundsToNearestEven()
    {
        Assert.That(TensorBytes.ToBFloat16(1.0f), Is.EqualTo(0x3F80));
        // 1 + 2^-8 is exactly halfway between two bf16 values: ties go to the even one (1.0).
        Assert.That(TensorBytes.ToBFloat16(1.00390625f), Is.EqualTo(0x3F80));
        Assert.That(TensorBytes.ToBFloat16(1.01171875f), Is.EqualTo(0x3F82)); // halfway, rounds up to even
        Assert.That(float.IsNaN(BitConverter.Int32BitsToSingle(TensorBytes.ToBFloat16(float.NaN) << 16)));
    }

    [Test]
    public void VectorisedBFloat16MatchesScalar()
    {
        var rng = new Random(5);
        var values = new float[1000];
        for (int i = 0; i < values.Length; i++) values[i] = BitConverter.Int32BitsToSingle(rng.Next(int.MinValue, int.MaxValue));
        float[] special = [float.NaN, -float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, 0f, float.MaxValue, float.Epsilon, 1.00390625f];
        special.CopyTo(values, 500);
        var vector = new ushort[values.Length];
        TensorBytes.ToBFloat16(values, vector);
        for (int i = 0; i < values.Length; i++)
            Assert.That(vector[i], Is.EqualTo(TensorBytes.ToBFloat16(values[i])), $"element {i} ({values[i]:R})");
    }

    private static byte[] File8(string header, int dataBytes, ulong? declaredLength = null)
    {
        byte[] h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)h.Length);
        h.CopyTo(bytes, 8);
        return bytes;
    }

    private static string OpenError(byte[] bytes)
    {
        using var tmp = TestPaths.CreateTempDir();
        File.WriteAllBytes(tmp.File("bad.safetensors"), bytes);
        var e = Assert.Throws<InvalidInputException>(() => SafetensorsFile.Open(tmp.File("bad.safetensors")).Dispose());
        return e!.Message;
    }

    [Test]
    public void RejectsShortFile() =>
        Assert.That(OpenError([1, 2, 3]), Does.Contain("shorter than the 8-byte header length"));

    [Test]
    public void RejectsHeaderLengthPastEndOfFile() =>
        Assert.That(OpenError(File8("{}", 0, declaredLength: 1000)), Does.Contain("header length 1000 runs past the end of the file"));

    [Test]
    public void RejectsAbsurdHeaderLength() =>
        Assert.That(OpenError(File8("{}", 0, declaredLength: 1UL << 40)), Does.Contain("is absurd"));

    [Test]
    public void RejectsInvalidJson() =>
        Assert.That(OpenError(File8("{\"a\": [", 0)), Does.Contain("not valid JSON"));

    [Test]
    public void RejectsNonObjectHeader() =>
        Assert.That(OpenError(File8("[1, 2]", 0)), Does.Contain("expected an object"));

    [Test]
    public void RejectsUnknownDtype() =>
        Assert.That(OpenError(File8("""{"w": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}}""", 2)),
            Does.Contain("tensor 'w'").And.Contains("unsupported dtype 'F8_E4M3'"));

    [Test]
    public void RejectsSizeMismatch() =>
        Assert.That(OpenError(File8("""{"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}}""", 24)),
            Does.Contain("tensor 'w'").And.Contains("needs 24 bytes").And.Contains("hold 20"));

    [Test]
    public void RejectsOffsetsOutsideDataRegion() =>
        Assert.That(OpenError(File8("""{"w": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}}""", 16)),
            Does.Contain("tensor 'w'").And.Contains("outside the data region of 16 bytes"));

    [Test]
    public void RejectsReversedOffsets() =>
        Assert.That(OpenError(File8("""{"w": {"dtype": "U8", "shape": [0], "data_offsets": [8, 4]}}""", 16)),
            Does.Contain("end before they begin"));

    [Test]
    public void RejectsOverlapNamingBothTensors() =>
        Assert.That(OpenError(File8(
            """{"first": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}, "second": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}""", 16)),
            Does.Contain("'first'").And.Contains("'second'").And.Contains("overlap"));

    [Test]
    public void RejectsDuplicateNames() =>
        Assert.That(OpenError(File8(
            """{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}""", 8)),
            Does.Contain("tensor 'w' appears twice"));

    [Test]
    public void RejectsNegativeOrFractionalShape()
    {
        Assert.That(OpenError(File8("""{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}""", 4)),
            Does.Contain("tensor 'w'").And.Contains("not a non-negative integer"));
        Assert.That(OpenError(File8("""{"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}""", 4)),
            Does.Contain("not a non-negative integer"));
    }

    [Test]
    public void RejectsOverflowingShape() =>
        Assert.That(OpenError(File8("""{"w": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 4]}}""", 4)),
            Does.Contain("overflows"));

    [Test]
    public void RejectsMissingFields() =>
        Assert.That(OpenError(File8("""{"w": {"dtype": "F32", "shape": [1]}}""", 4)),
            Does.Contain("tensor 'w'").And.Contains("data_offsets"));

    [Test]
    public void RejectsNonStringMetadata() =>
        Assert.That(OpenError(File8("""{"__metadata__": {"a": 1}}""", 0)), Does.Contain("__metadata__"));
}
