using VallE.Runtime.Codec;
using VallE.Runtime.Models;
using VallE.Runtime.Sampling;
using VallE.Tests.Engine;

namespace VallE.Tests.Sampling;

/// <summary>
/// A seed names the draws of a sequence by (seed, step) alone: the number of engine threads cannot change the codes.
/// </summary>
[TestFixture]
public class SeededGenerationTests
{
    [TestCaseSource(typeof(Fixture), nameof(Fixture.Names))]
    public void SeededCodesAreTheSameWithOneTwoAndThreeThreads(string name)
    {
        var f = Fixture.Get(name);
        var request = f.Request(new SamplingOptions { TopK = 50, TopP = 0.95f, Temperature = 1.1f, Seed = 2024 }) with { MaxFrames = 60 };
        AudioCodes? first = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var model = ValleModel.Load(f.Checkpoint, new EngineOptions { Threads = threads });
            var codes = model.Generate(request).Codes;
            if (first is null) first = codes;
            else CodeAssert.Equal(first, codes);
        }
        Assert.That(first!.Frames, Is.GreaterThan(0), "something was generated");
    }
}
