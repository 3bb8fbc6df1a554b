using VallE.Runtime.Codec;
using VallE.Runtime.Onnx;
using VallE.Tests.Codec;
using VallE.Tests.Support;

namespace VallE.Tests.Onnx;

public unsafe class OrtBindingTests
{
    [Test]
    public void LoadsTheLibraryAndReportsVersionAndProviders()
    {
        EncodecTestModels.RequireOnnxRuntime();
        var (path, version) = OnnxRuntimeInfo.Load();
        Assert.That(version, Does.Match(@"^1\.\d+\.\d+"));
        Assert.That(path, Is.Not.Empty);
        Assert.That(OnnxRuntimeInfo.AvailableProviders(), Does.Contain("CPUExecutionProvider"));
    }

    [Test]
    public void StatusBecomesAnExceptionWithCodeAndMessage()
    {
        EncodecTestModels.RequireOnnxRuntime();
        byte[] msg = "boom from the test\0"u8.ToArray();
        nint status;
        fixed (byte* m = msg) status = ((delegate* unmanaged<int, byte*, nint>)OrtLibrary.Api[OrtNative.CreateStatus])(2, m);
        var e = Assert.Throws<OnnxRuntimeException>(() => OrtLibrary.Check(status, "ctx"));
        Assert.That(e!.Message, Is.EqualTo("ctx: boom from the test"));
        Assert.That(e.ErrorCode, Is.EqualTo(2));
        Assert.That(e, Is.InstanceOf<InvalidInputException>());
    }

    [Test]
    public void SessionDescribesInputsAndOutputsAndRunsWithThreadOptions()
    {
        string dec = EncodecTestModels.Decoder;
        using var session = OnnxSession.Open(dec, new OnnxSessionOptions { IntraOpThreads = 1, InterOpThreads = 1 });
        Assert.That(session.Inputs.Single().ToString(), Is.EqualTo("'codes' int64 [?, 8, ?]"));
        Assert.That(session.Outputs.Single().ToString(), Is.EqualTo("'audio' float32 [?, 1, ?]"));
        Assert.That(session.ExecutionProvider, Is.EqualTo("CPU"));
        using var input = OnnxValue.FromInt64(new long[16], 1, 8, 2);
        var outputs = session.Run([("codes", input)], ["audio"]);
        using var audio = outputs[0];
        Assert.That(audio.Shape, Is.EqualTo(new long[] { 1, 1, 640 }));
        Assert.That(audio.ElementType, Is.EqualTo(OrtElementType.Float32));
        Assert.Throws<InvalidOperationException>(() => audio.Span<long>());
    }

    [Test]
    public void RunErrorsNameTheModelAndLeaveTheSessionUsable()
    {
        using var session = OnnxSession.Open(EncodecTestModels.Decoder);
        using var wrongType = OnnxValue.FromFloat32(new float[16], 1, 8, 2);
        var e = Assert.Throws<OnnxRuntimeException>(() => session.Run([("codes", wrongType)], ["audio"]));
        Assert.That(e!.Message, Does.StartWith(EncodecTestModels.Decoder + ": inference failed"));
        using var unknown = OnnxValue.FromInt64(new long[16], 1, 8, 2);
        Assert.Throws<OnnxRuntimeException>(() => session.Run([("nope", unknown)], ["audio"]));
        var ok = session.Run([("codes", unknown)], ["audio"]);
        ok[0].Dispose();
    }

    [Test]
    public void PreferCudaFallsBackToCpuWithALogLine()
    {
        var log = new List<string>();
        using var session = OnnxSession.Open(EncodecTestModels.Decoder, new OnnxSessionOptions { PreferCuda = true, Log = log.Add });
        if (session.ExecutionProvider == "CUDA") Assert.Pass("this ONNX Runtime has a working CUDA provider");
        Assert.That(log.Single(), Does.Contain("CPU"));
    }

    [Test]
    public void BadModelFilesAreInvalidInput()
    {
        EncodecTestModels.RequireOnnxRuntime();
        using var dir = TestPaths.CreateTempDir();
        File.WriteAllBytes(dir.File("junk.onnx"), [1, 2, 3, 4, 5]);
        var e = Assert.Throws<OnnxRuntimeException>(() => OnnxSession.Open(dir.File("junk.onnx")));
        Assert.That(e!.Message, Does.StartWith(dir.File("junk.onnx") + ": cannot load ONNX model"));
        Assert.That(Assert.Throws<InvalidInputException>(() => OnnxSession.Open(dir.File("none.onnx")))!.Message, Does.Contain("file not found"));
        Assert.Throws<InvalidInputException>(() => EncodecDecoder.Open(dir.Path));
    }

    [Test]
    public void ExplicitMissingLibraryIsANativeDependencyErrorNamingIt()
    {
        EncodecTestModels.RequireOnnxRuntime();
        // Already loaded in this process: asking for another file is refused with both paths named.
        var e = Assert.Throws<NativeDependencyException>(() => OnnxRuntimeInfo.Load("/nonexistent/libonnxruntime.so.1"));
        Assert.That(e!.Message, Does.Contain("/nonexistent/libonnxruntime.so.1"));
    }
}
