using VallE.Runtime.Codec;
using VallE.Runtime.Onnx;
using VallE.Tests.Codec;
using VallE.Tests.Support;

namespace VallE.Tests.Onnx;

/// <summary><see cref="OnnxSession"/> and <see cref="OnnxValue"/> over the Microsoft.ML.OnnxRuntime package.</summary>
public class OnnxSessionTests
{
    [Test]
    public void LoadsThePackagesLibraryAndReportsVersionAndProviders()
    {
        string version = OnnxRuntimeInfo.Load();
        Assert.That(version, Does.Match(@"^1\.\d+\.\d+"));
        Assert.That(OnnxRuntimeInfo.AvailableProviders(), Does.Contain("CPUExecutionProvider"));
        // The package's native library is copied beside the application (here: the tests), not fetched by build.sh.
        if (OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64)
            Assert.That(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libonnxruntime.so"), Does.Exist);
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
        Assert.That(e!.Message, Does.StartWith(EncodecTestModels.Decoder + ": inference failed: "));
        // The package's "[ErrorCode:InvalidArgument]" prefix becomes the code (2); the message stays one line.
        Assert.That(e.Message, Does.Not.Contain("[ErrorCode").And.Not.Contain("\n"));
        Assert.That(e.ErrorCode, Is.EqualTo(2));
        Assert.That(e, Is.InstanceOf<InvalidInputException>());
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
        Assert.That(e!.Message, Does.StartWith(dir.File("junk.onnx") + ": cannot load ONNX model: "));
        Assert.That(e.Message, Does.Not.Contain("[ErrorCode").And.Not.Contain("\n"));
        Assert.That(e.ErrorCode, Is.Not.Zero);
        Assert.That(Assert.Throws<InvalidInputException>(() => OnnxSession.Open(dir.File("none.onnx")))!.Message, Does.Contain("file not found"));
        Assert.Throws<InvalidInputException>(() => EncodecDecoder.Open(dir.Path));
    }
}
