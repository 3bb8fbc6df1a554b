using VallE.Runtime.Models;
using VallE.Runtime.Sampling;
using VallE.Tests.Models;
using VallE.Weights;

namespace VallE.Tests.Engine;

/// <summary>
/// Several utterances of different lengths in one call give exactly what each gives alone (codes and logits);
/// sequences that stop early leave the batch.
/// </summary>
public sealed class BatchingTests
{
    [TestCaseSource(typeof(Fixture), nameof(Fixture.Names))]
    public void FixtureBatchEqualsOneAtATime(string name)
    {
        var f = Fixture.Get(name);
        var full = f.Request();
        var requests = new[]
        {
            full,
            // A shorter prompt and a shorter text: different prefill lengths and stopping points.
            full with { PromptCodes = full.PromptCodes.Slice(0, 25) },
            full with { TextTokens = [.. full.TextTokens[..(f.EnrollTokens + 2)], full.TextTokens[^1]] },
            // Sampled, with its own RNG stream.
            full with { Sampling = new SamplingOptions { TopK = 50, Temperature = 0.9f, Seed = 5 } },
            full with { Sampling = new SamplingOptions { TopP = 0.8f, Seed = 6 }, MaxFrames = 30 },
        };
        AssertBatchEqualsSingles(f.Model, requests);
    }

    [Test]
    public void RandomModelsBatchEqualsOneAtATime()
    {
        foreach (var config in new[] { InMemoryModels.Tiny(ModelFamily.Valle) with { PrefixMode = 2 }, InMemoryModels.Tiny(ModelFamily.VallEX) })
        {
            var model = RandomModels.Load(config);
            var requests = Enumerable.Range(0, 4).Select(i => RandomModels.Request(config, textLength: 6 + 3 * i, promptFrames: 5 + 2 * i, seed: i) with
            {
                Sampling = new SamplingOptions { TopK = 10, Seed = (ulong)(i + 1) },
                MaxFrames = 10 + 5 * i,
            }).ToArray();
            AssertBatchEqualsSingles(model, requests);
        }
    }

    private static void AssertBatchEqualsSingles(ValleModel model, GenerationRequest[] requests)
    {
        var batchLogits = new LogitsRecorder();
        var batch = model.GenerateBatch(requests, batchLogits);
        Assert.That(batch, Has.Count.EqualTo(requests.Length));
        var frames = new HashSet<int>();
        for (int i = 0; i < requests.Length; i++)
        {
            var singleLogits = new LogitsRecorder();
            var single = model.Generate(requests[i], singleLogits);
            CodeAssert.Equal(single.Codes, batch[i].Codes);
            Assert.That(batch[i].StopReason, Is.EqualTo(single.StopReason), $"request {i} stop reason");
            var steps = batchLogits.ArBySequence[i];
            Assert.That(steps, Has.Count.EqualTo(singleLogits.Ar.Count), $"request {i} AR steps");
            for (int s = 0; s < steps.Count; s++)
                LogitAssert.Close(singleLogits.Ar[s], steps[s], $"request {i} step {s}", tolerance: 1e-6);
            frames.Add(single.Frames);
        }
        Assert.That(frames, Has.Count.GreaterThan(1), "the batch should mix sequences that stop at different lengths");
    }
}

/// <summary>Attention and the linear kernels split work across threads without changing the results.</summary>
public sealed class ThreadingTests
{
    [TestCaseSource(typeof(Fixture), nameof(Fixture.Names))]
    public void FourThreadsGiveTheSameCodesAndLogitsAsOne(string name)
    {
        var f = Fixture.Get(name);
        var request = f.Request();
        var one = new LogitsRecorder();
        var single = f.Model.Generate(request, one);
        using var model4 = ValleModel.Load(f.Checkpoint, new EngineOptions { Threads = 4 });
        var four = new LogitsRecorder();
        var results = model4.GenerateBatch([request, request with { PromptCodes = request.PromptCodes }], four);
        CodeAssert.Equal(single.Codes, results[0].Codes);
        CodeAssert.Equal(single.Codes, results[1].Codes);
        Assert.That(four.Ar, Has.Count.EqualTo(one.Ar.Count));
        // Not bitwise: the kernels block rows differently for a batch of two than for one.
        for (int s = 0; s < one.Ar.Count; s++) LogitAssert.Close(one.Ar[s], four.Ar[s], $"step {s}", tolerance: 1e-6);
        for (int stage = 1; stage < 8; stage++) LogitAssert.Close(one.Nar[stage], four.Nar[stage], $"NAR stage {stage}", tolerance: 1e-6);
        Assert.That(model4.Backend.Threads, Is.EqualTo(4));
        Assert.That(f.Model.Backend.Threads, Is.EqualTo(1), "each model has its own backend");
    }
}
