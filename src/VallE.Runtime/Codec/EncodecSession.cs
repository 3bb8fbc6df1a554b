using VallE.Runtime.Onnx;

namespace VallE.Runtime.Codec;

/// <summary>
/// One ONNX session of an EnCodec half, opened and checked against <see cref="EncodecContract"/>: the encoder
/// and the decoder differ only in their tensor specs and in what they do around <see cref="Run"/>.
/// </summary>
internal sealed class EncodecSession : IDisposable
{
    private readonly OnnxSession _session;
    private readonly string _input, _output;

    public string ModelPath => _session.ModelPath;
    public string ExecutionProvider => _session.ExecutionProvider;
    public IReadOnlyDictionary<string, string> Metadata => _session.Metadata;

    private EncodecSession(OnnxSession session, string input, string output)
    {
        _session = session;
        _input = input;
        _output = output;
    }

    /// <summary>Opens <paramref name="modelPath"/> and checks it is the EnCodec <paramref name="role"/>; nothing leaks on failure.</summary>
    public static EncodecSession Open(string modelPath, OnnxSessionOptions? options, string role,
        string inputName, OrtElementType inputType, long[] inputShape,
        string outputName, OrtElementType outputType, long[] outputShape, string hint)
    {
        var session = OnnxSession.Open(modelPath, options);
        try
        {
            var (input, output) = EncodecContract.Check(session, role, inputName, inputType, inputShape, outputName, outputType, outputShape, hint);
            return new EncodecSession(session, input.Name, output.Name);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Runs the model on one input; the caller disposes the returned output.</summary>
    public OnnxValue Run(OnnxValue input, CancellationToken cancellationToken) =>
        _session.Run([(_input, input)], [_output], cancellationToken)[0];

    public void Dispose() => _session.Dispose();
}
