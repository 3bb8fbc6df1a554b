using VallE.Runtime.Cuda.Model;
using VallE.Runtime.Sampling;
using VallE.Tests.Support;
using VallE.Weights;
using VallE.Weights.NumPy;
using static VallE.Tests.Cuda.CudaTestSupport;

namespace VallE.Tests.Cuda;

/// <summary>
/// The CUDA path against the upstream PyTorch golden outputs in ../shared. The host-side checks (config supported,
/// every tensor present with the shape the GPU path reads) run everywhere; the generation runs on a GPU only.
/// </summary>
[TestFixture]
public class CudaFixtureTests
{
    [Test]
    public void ValleTiny_IsSupported_AndHasEveryTensorTheGpuPathReads()
    {
        string path = TestPaths.RequireShared("valle", "valle-tiny", "checkpoint.pt");
        using var checkpoint = ModelCheckpoint.Open(path);
        Assert.That(CudaValle.Supports(checkpoint.Config, out string why), Is.True, why);
        Assert.DoesNotThrow(() => CudaValle.CheckWeights(checkpoint.Config, new CheckpointWeightSource(checkpoint)));
    }

    [Test]
    public void VallexTiny_IsRefusedWithAReason()
    {
        string path = TestPaths.RequireShared("valle", "vallex-tiny", "checkpoint.pt");
        using var checkpoint = ModelCheckpoint.Open(path);
        Assert.That(CudaValle.Supports(checkpoint.Config, out string why), Is.False);
        Assert.That(why, Does.Contain("VALL-E"));
    }

    [Test]
    public void CheckWeights_NamesAMisShapedTensor()
    {
        string path = TestPaths.RequireShared("valle", "valle-tiny", "checkpoint.pt");
        using var checkpoint = ModelCheckpoint.Open(path);
        var wrong = checkpoint.Config with { FeedForwardMultiplier = 2 };
        var e = Assert.Throws<InvalidInputException>(() => CudaValle.CheckWeights(wrong, new CheckpointWeightSource(checkpoint)))!;
        Assert.That(e.Message, Does.Contain("ar_decoder.layers.0.linear1.weight"));
    }

    /// <summary>Greedy AR + NAR reproduce <c>model.inference(top_k=1)</c> exactly (smallest top-2 margin 2e-3).</summary>
    [Test]
    public void ValleTiny_GreedyCodesMatchPyTorch()
    {
        string dir = Path.GetDirectoryName(TestPaths.RequireShared("valle", "valle-tiny", "checkpoint.pt"))!;
        var device = RequireDevice();
        using var checkpoint = ModelCheckpoint.Open(Path.Combine(dir, "checkpoint.pt"));
        int[] text = Npy.Read(Path.Combine(dir, "text_tokens.npy")).ToInt64().Select(v => (int)v).ToArray();
        int[] prompt = Npy.Read(Path.Combine(dir, "prompt_codes.npy")).ToInt64().Select(v => (int)v).ToArray();
        var expected = Npy.Read(Path.Combine(dir, "expected_codes.npy"));
        using var valle = CudaValle.Load(device, checkpoint, capacity: 512);
        var (codes, stop) = valle.Generate(text, prompt, new SamplingOptions { TopK = 1 }, seed: 0);
        Assert.That(codes.Length / 8, Is.EqualTo(expected.Shape[0]), $"frames (stopped: {stop})");
        Assert.That(codes, Is.EqualTo(expected.ToInt64().Select(v => (int)v).ToArray()));
    }

    /// <summary>
    /// One sampler for both devices: a seeded sampled generation gives the CPU engine's codes. The AR logits agree to
    /// about 1e-5, so only a draw within that of a boundary between two tokens could legitimately differ.
    /// </summary>
    [Test]
    public void ValleTiny_SampledCodesMatchTheCpuEngineForTheSameSeed()
    {
        var device = RequireDevice();
        var f = Engine.Fixture.Get("valle-tiny");
        var sampling = new SamplingOptions { TopK = 50, TopP = 0.95f, Temperature = 1.1f, RepetitionPenalty = 1.2f, RepetitionWindow = 16, Seed = 2024 };
        long[,] cpu = f.Model.Generate(f.Request(sampling)).Codes;
        int[] text = f.TextTokens.Select(v => (int)v).ToArray();
        int[] prompt = Npy.Read(f.File("prompt_codes.npy")).ToInt64().Select(v => (int)v).ToArray();
        using var valle = CudaValle.Load(device, f.Checkpoint, capacity: 18 * text.Length + prompt.Length / 8 + 8);
        var (codes, stop) = valle.Generate(text, prompt, sampling, seed: 2024);
        Assert.That(codes.Length / 8, Is.EqualTo(cpu.GetLength(0)), $"frames (GPU stopped: {stop})");
        Assert.That(codes, Is.EqualTo(cpu.Cast<long>().Select(v => (int)v).ToArray()));
    }
}
