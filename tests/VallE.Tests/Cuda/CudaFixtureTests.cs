using VallE.Runtime.Cuda;
using VallE.Runtime.Models;
using VallE.Runtime.Sampling;
using VallE.Tests.Engine;
using static VallE.Tests.Cuda.CudaTestSupport;

namespace VallE.Tests.Cuda;

/// <summary>
/// The one VALL-E model on the CUDA backend against upstream PyTorch's golden outputs and against the same model on
/// the CPU backend, on every shared fixture (VALL-E and VALL-E X). GPU only: skipped with the probe's reason elsewhere.
/// </summary>
[TestFixtureSource(typeof(Fixture), nameof(Fixture.Names))]
public sealed class CudaFixtureTests(string name)
{
    private Fixture F => Fixture.Get(name);

    private ValleModel LoadOnGpu() =>
        ValleModel.Load(F.Checkpoint, new EngineOptions(), new CudaComputeBackend(RequireDevice(), ownsDevice: false));

    /// <summary>Greedy AR + NAR reproduce <c>model.inference(top_k=1)</c> exactly, as the CPU backend does.</summary>
    [Test]
    public void GreedyCodesMatchPyTorchAndTheCpu()
    {
        using var gpu = LoadOnGpu();
        var result = gpu.Generate(F.Request());
        CodeAssert.Equal(F.Codes("expected_codes.npy"), result.Codes);
        CodeAssert.Equal(F.Model.Generate(F.Request()).Codes, result.Codes);
    }

    /// <summary>The AR logits of every step agree with upstream's as closely as the CPU's do (observer path: no graph).</summary>
    [Test]
    public void ArLogitsMatchUpstream()
    {
        using var gpu = LoadOnGpu();
        var recorder = new LogitsRecorder();
        gpu.Generate(F.Request(), recorder);
        var expected = VallE.Weights.NumPy.Npy.Read(F.File("expected_ar_logits.npy"));
        int steps = (int)expected.Shape[0], vocab = (int)expected.Shape[1];
        Assert.That(recorder.Ar, Has.Count.EqualTo(steps));
        var flat = expected.ToFloat32();
        for (int s = 0; s < steps; s++) LogitAssert.Close(flat.AsSpan(s * vocab, vocab), recorder.Ar[s], $"AR step {s}");
    }

    /// <summary>
    /// One sampler for both devices: a seeded sampled generation gives the CPU engine's codes. The AR logits agree to
    /// about 1e-5, so only a draw within that of a boundary between two tokens could legitimately differ.
    /// </summary>
    [Test]
    public void SampledCodesMatchTheCpuForTheSameSeed()
    {
        using var gpu = LoadOnGpu();
        var sampling = new SamplingOptions { TopK = 50, TopP = 0.95f, Temperature = 1.1f, RepetitionPenalty = 1.2f, RepetitionWindow = 16, Seed = 2024 };
        CodeAssert.Equal(F.Model.Generate(F.Request(sampling)).Codes, gpu.Generate(F.Request(sampling)).Codes);
    }

    /// <summary>A batch whose sequences stop at different steps (the step graph is re-recorded as rows leave).</summary>
    [Test]
    public void BatchWithEarlyFinishersEqualsOneAtATime()
    {
        using var gpu = LoadOnGpu();
        var requests = Enumerable.Range(0, 3).Select(i => F.Request(new SamplingOptions { TopK = 20, Seed = (ulong)(7 + i) }) with
        {
            MaxFrames = 10 + 15 * i,
        }).ToArray();
        var batch = gpu.GenerateBatch(requests);
        for (int i = 0; i < requests.Length; i++)
            CodeAssert.Equal(gpu.Generate(requests[i]).Codes, batch[i].Codes);
    }

    [Test]
    public void ContinualMatchesUpstream()
    {
        string input = F.File("continual_input_codes.npy");
        if (!File.Exists(input)) Assert.Ignore($"{name} has no continual fixture");
        using var gpu = LoadOnGpu();
        CodeAssert.Equal(F.Codes("expected_continual_codes.npy"), gpu.Continual(F.TextTokens, F.Codes("continual_input_codes.npy")).Codes);
    }
}
