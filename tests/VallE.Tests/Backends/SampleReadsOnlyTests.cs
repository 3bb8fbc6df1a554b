using VallE.Runtime.Backends;
using VallE.Runtime.Sampling;

namespace VallE.Tests.Backends;

/// <summary>
/// <see cref="IComputeBackend.Sample"/> only reads its logits (penalty and temperature work on a copy), on every
/// backend: the AR decoder reads them again afterwards to score best_of candidates, so a backend that changed them
/// in place would score the temperature twice.
/// </summary>
public class SampleReadsOnlyTests
{
    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.Names))]
    public void SampleLeavesTheLogitsUnchanged(string backend)
    {
        using var b = TestBackends.Create(backend);
        const int vocab = 1025, rows = 2;
        var options = new[]
        {
            new SamplingOptions { TopK = 50, Temperature = 0.7f, RepetitionPenalty = 1.5f, RepetitionWindow = 8, Seed = 1 },
            new SamplingOptions { TopK = 1, RepetitionPenalty = 2f, RepetitionWindow = 8, Seed = 2 },
        };
        using var samplers = b.CreateSamplers(options, vocab, historyCapacity: 16);
        using var logits = b.Allocate(TensorType.F32, rows, vocab);
        using var tokens = b.Allocate(TensorType.I32, rows, 1);
        using var argMax = b.Allocate(TensorType.I32, rows, 1);
        var rng = new Random(5);
        var values = Enumerable.Range(0, rows * vocab).Select(_ => (float)(rng.NextDouble() * 8 - 4)).ToArray();
        b.Write(logits.All, values);
        for (int step = 0; step < 3; step++)   // later steps have a history, so the penalty applies
        {
            b.Sample(samplers, logits.All, [0, 1], tokens.All, argMax.All);
            var after = new float[rows * vocab];
            b.Read(logits.All, after);
            Assert.That(after, Is.EqualTo(values), $"step {step}");
        }
    }
}
