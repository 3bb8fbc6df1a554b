using VallE.Runtime.Models;
using VallE.Runtime.Sampling;
using VallE.Tests.Models;
using VallE.Weights;

namespace VallE.Tests.Engine;

/// <summary>
/// The KV-cached AR (one prefill, then one position per step) gives the logits of a full recompute of the whole
/// sequence (<see cref="ReferenceForward"/>, upstream's way) at every step.
/// </summary>
public sealed class KvCacheTests
{
    [TestCaseSource(nameof(FixtureNames))]
    public void FixtureKvCacheEqualsFullRecomputeAtEveryStep(string name)
    {
        var f = Fixture.Get(name);
        // VALL-E X's fixture decodes 193 steps; every 6th keeps the reference (quadratic per step) fast.
        CheckAgainstReference(f.Model, f.Request(), stride: f.IsVallEX ? 6 : 1);
    }

    public static readonly string[] FixtureNames = Fixture.Names;

    public static IEnumerable<TestCaseData> Variants()
    {
        yield return new TestCaseData(InMemoryModels.Tiny(ModelFamily.Valle) with { NormFirst = true }).SetName("PreNorm");
        yield return new TestCaseData(InMemoryModels.Tiny(ModelFamily.Valle) with { NormFirst = false }).SetName("PostNorm");
        yield return new TestCaseData(InMemoryModels.Tiny(ModelFamily.Valle) with { AddPrenet = true }).SetName("Prenets");
        yield return new TestCaseData(InMemoryModels.Tiny(ModelFamily.Valle) with { PrependBos = true }).SetName("PrependBos");
        yield return new TestCaseData(InMemoryModels.Tiny(ModelFamily.VallEX) with { AddPrenet = true, NormFirst = false }).SetName("VallEXPostNormPrenets");
        yield return new TestCaseData(InMemoryModels.Tiny(ModelFamily.VallEX)).SetName("VallEX");
        yield return new TestCaseData(InMemoryModels.Tiny(ModelFamily.VallEX) with { NormFirst = false }).SetName("VallEXPostNorm");
        yield return new TestCaseData(InMemoryModels.Tiny(ModelFamily.Valle) with { NormFirst = false, AddPrenet = true }).SetName("PostNormPrenets");
        yield return new TestCaseData(InMemoryModels.Tiny(ModelFamily.VallEX) with { AddPrenet = true }).SetName("VallEXPrenets");
        yield return new TestCaseData(InMemoryModels.Tiny(ModelFamily.Valle) with { AddPrenet = true, PrependBos = true }).SetName("PrenetsBos");
    }

    [TestCaseSource(nameof(Variants))]
    public void RandomModelKvCacheEqualsFullRecompute(ModelConfig config)
    {
        var model = RandomModels.Load(config);
        var request = RandomModels.Request(config, textLength: 9, promptFrames: 7, seed: 3) with
        {
            Sampling = new SamplingOptions { TopK = 20, Temperature = 1.5f, Seed = 11 },
            MaxFrames = 24,
        };
        CheckAgainstReference(model, request, stride: 1);
    }

    private static void CheckAgainstReference(ValleModel model, GenerationRequest request, int stride)
    {
        var recorder = new LogitsRecorder();
        var result = model.Generate(request, recorder);
        var c = model.Config;
        var reference = new ReferenceForward(model.Weights, model.Compute);
        var languages = RequestValidation.LanguageIds(model.Config, request, request.TextTokens.Length);

        var audio = new List<long>();
        if (c.PrependBos) audio.Add(c.BosToken);
        audio.AddRange(request.PromptCodes.Codebook(0));
        int checkedSteps = 0;
        for (int step = 0; step < recorder.Ar.Count; step++)
        {
            if (step % stride == 0 || step == recorder.Ar.Count - 1)
            {
                var expected = reference.ArLogits(request.TextTokens, languages, [.. audio]);
                LogitAssert.Close(expected, recorder.Ar[step], $"step {step}", tolerance: 1e-5);
                checkedSteps++;
            }
            if (step < result.Frames) audio.Add(result.Codes[step, 0]);
        }
        Assert.That(checkedSteps, Is.GreaterThan(1));
    }
}

/// <summary>Random-weight models of any configuration (layout engineer's InMemoryModels) and requests for them.</summary>
internal static class RandomModels
{
    public static ValleModel Load(ModelConfig config, int seed = 1)
    {
        var tensors = InMemoryModels.StateDict(config, seed);
        // BatchNorm running variances must be positive (the generator draws uniform(-1, 1)).
        foreach (var name in tensors.Keys.Where(k => k.EndsWith(".running_var")).ToList())
            tensors[name] = InMemoryModels.FromFloats(name, tensors[name].Shape, tensors[name].ToFloat32().Select(v => 0.5f + Math.Abs(v)).ToArray());
        Assert.That(!config.AddPrenet || tensors.Keys.Any(k => k.EndsWith(".running_var")), "prenet weights generated");
        using var checkpoint = InMemoryModels.Checkpoint(config, tensors);
        return ValleModel.Load(checkpoint, new EngineOptions { Threads = 1 });
    }

    public static GenerationRequest Request(ModelConfig config, int textLength, int promptFrames, int seed)
    {
        var rng = new Random(seed);
        var text = new long[textLength];
        text[0] = 1;
        for (int i = 1; i < textLength - 1; i++) text[i] = rng.Next(3, 200);
        text[^1] = 2;
        var prompt = new long[promptFrames, config.NumQuantizers];
        for (int t = 0; t < promptFrames; t++)
            for (int j = 0; j < config.NumQuantizers; j++) prompt[t, j] = rng.Next(0, 1024);
        bool vallex = config.Family == ModelFamily.VallEX;
        return new GenerationRequest
        {
            TextTokens = text,
            PromptCodes = prompt,
            EnrollTokens = textLength / 2,
            PromptLanguage = vallex ? "zh" : null,
            TextLanguage = vallex ? "en" : null,
            Sampling = new SamplingOptions { TopK = 1 },
        };
    }
}

/// <summary>A decode step allocates nothing: measured between consecutive AR steps on the calling thread.</summary>
public sealed class DecodeAllocationTests
{
    private sealed class AllocationProbe : IInferenceObserver
    {
        public readonly long[] BytesAtStep = new long[4096];
        public int Steps;

        public void OnArLogits(int sequence, int step, ReadOnlySpan<float> logits)
        {
            if (sequence == 0 && Steps < BytesAtStep.Length) BytesAtStep[Steps++] = GC.GetAllocatedBytesForCurrentThread();
        }

        public void OnNarLogits(int sequence, int stage, int frames, ReadOnlySpan<float> logits) { }
    }

    [TestCaseSource(typeof(Fixture), nameof(Fixture.Names))]
    public void DecodeStepsDoNotAllocate(string name)
    {
        var f = Fixture.Get(name);
        var request = f.Request() with { Sampling = new SamplingOptions { TopK = 50, RepetitionPenalty = 1.2f, RepetitionWindow = 16, Seed = 3 }, MaxFrames = 60 };
        f.Model.GenerateBatch([request, request with { Sampling = request.Sampling with { Seed = 4 } }]); // warm up (JIT)
        var probe = new AllocationProbe();
        f.Model.GenerateBatch([request, request with { Sampling = request.Sampling with { Seed = 4 } }], probe);
        Assert.That(probe.Steps, Is.GreaterThan(10));
        // From the second decode step on (the first may still tier up the JIT), nothing is allocated.
        long bytes = probe.BytesAtStep[probe.Steps - 1] - probe.BytesAtStep[2];
        Assert.That(bytes, Is.Zero, $"{bytes} bytes allocated over {probe.Steps - 3} decode steps");
    }
}
