using VallE.Runtime.Onnx;

namespace VallE.Runtime.Codec;

/// <summary>
/// What VALL-E expects of its codec, EnCodec 24 kHz at 6 kbps, and the ONNX contract of the exported models:
/// encoder <c>audio</c> float32 [B, 1, N] (N a multiple of 320) -> <c>codes</c> int64 [B, 8, N/320];
/// decoder <c>codes</c> int64 [B, 8, T] -> <c>audio</c> float32 [B, 1, 320 T].
/// Models with other tensor names are accepted when they have exactly one input and one output.
/// </summary>
public static class EncodecContract
{
    public const int SampleRate = 24000;
    public const int HopLength = 320;
    /// <summary>Code frames per second of audio: 24000 / 320 = 75.</summary>
    public const int FramesPerSecond = SampleRate / HopLength;
    public const int Quantizers = 8;
    public const int CodebookSize = 1024;

    /// <summary>Frames (of 320 samples) that cover <paramref name="samples"/> samples.</summary>
    public static int FramesFor(long samples) => checked((int)((samples + HopLength - 1) / HopLength));

    /// <summary>Picks the model's input and output and checks their types and static dimensions against the contract.</summary>
    internal static (OnnxTensorInfo Input, OnnxTensorInfo Output) Check(OnnxSession session, string role,
        string inputName, OrtElementType inputType, long[] inputShape, string outputName, OrtElementType outputType, long[] outputShape, string hint)
    {
        string what = $"{session.ModelPath}: not an EnCodec {role}";
        OnnxTensorInfo input = Pick(session.Inputs, inputName, "input", what);
        OnnxTensorInfo output = Pick(session.Outputs, outputName, "output", what);
        CheckOne(input, inputType, inputShape, what, "input", hint);
        CheckOne(output, outputType, outputShape, what, "output", hint);
        return (input, output);
    }

    private static OnnxTensorInfo Pick(IReadOnlyList<OnnxTensorInfo> list, string name, string kind, string what)
    {
        var named = list.FirstOrDefault(t => t.Name == name);
        if (named is not null) return named;
        if (list.Count == 1) return list[0];
        throw new InvalidInputException(
            $"{what}: expected one {kind} (or one named '{name}'), the model has {list.Count}: {string.Join(", ", list)}");
    }

    private static void CheckOne(OnnxTensorInfo t, OrtElementType type, long[] shape, string what, string kind, string hint)
    {
        bool rankOk = t.Shape.Length == shape.Length;
        bool dimsOk = rankOk && t.Shape.Zip(shape).All(p => p.First < 0 || p.Second < 0 || p.First == p.Second);
        if (t.ElementType != type || !dimsOk)
        {
            string expected = $"{type.ToString().ToLowerInvariant()} [{string.Join(", ", shape.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]";
            throw new InvalidInputException($"{what}: {kind} {t} should be {expected}{hint}");
        }
    }
}
