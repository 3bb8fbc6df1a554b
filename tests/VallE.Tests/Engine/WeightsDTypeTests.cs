using VallE.Runtime.Cpu;
using VallE.Runtime.Models;
using VallE.Weights;

namespace VallE.Tests.Engine;

/// <summary>
/// bf16 and int8 weights against f32 on the fixtures: AR logits along the f32 model's own token path (teacher
/// forced, through <see cref="ReferenceForward"/>), top-1 agreement, and how many final codes stay identical.
/// Prints the numbers docs/engine.md reports; asserts only loose bounds (these are random tiny models with small
/// top-1 margins, not trained ones).
/// </summary>
public sealed class WeightsDTypeTests
{
    [TestCaseSource(nameof(Cases))]
    public void QuantizedWeightsStayCloseToF32(string name, WeightsDType dtype)
    {
        var f = Fixture.Get(name);
        var request = f.Request();
        var exact = f.Model.Generate(request);
        using var quantized = ValleModel.Load(f.Checkpoint, new EngineOptions { Threads = 1, WeightsDType = dtype });
        var f32 = new ReferenceForward(f.Model.Weights, f.Model.Compute);
        var q = new ReferenceForward(quantized.Weights, quantized.Compute);
        var c = f.Model.Config;
        var languages = RequestValidation.LanguageIds(f.Model.Config, request, request.TextTokens.Length);

        var audio = new List<long>();
        if (c.PrependBos) audio.Add(c.BosToken);
        audio.AddRange(request.PromptCodes.Codebook(0));
        double maxRel = 0;
        int agree = 0, steps = 0;
        for (int step = 0; step <= exact.Frames; step += f.IsVallEX ? 8 : 1)
        {
            var prefix = audio.Concat(Enumerable.Range(0, step).Select(s => exact.Codes[s, 0])).ToArray();
            var a = f32.ArLogits(request.TextTokens, languages, prefix);
            var b = q.ArLogits(request.TextTokens, languages, prefix);
            double scale = Math.Max(1, a.Max(Math.Abs)), err = 0;
            for (int i = 0; i < a.Length; i++) err = Math.Max(err, Math.Abs(a[i] - b[i]));
            maxRel = Math.Max(maxRel, err / scale);
            if (Runtime.Sampling.TokenSampler.ArgMax(a) == Runtime.Sampling.TokenSampler.ArgMax(b)) agree++;
            steps++;
        }
        var result = quantized.Generate(request);
        int same = 0, total = exact.Codes.Span.Length;
        if (result.Frames == exact.Frames)
            for (int t = 0; t < exact.Frames; t++)
                for (int j = 0; j < 8; j++) same += result.Codes[t, j] == exact.Codes[t, j] ? 1 : 0;
        TestContext.Out.WriteLine($"{name} {dtype}: AR max |logit error| / scale = {maxRel:E2}, top-1 agreement {agree}/{steps}, " +
                                  $"frames {result.Frames} vs {exact.Frames}, identical codes {same}/{total}");
        Assert.That(maxRel, Is.LessThan(dtype == WeightsDType.BF16 ? 0.05 : 0.1));
        Assert.That(agree, Is.GreaterThanOrEqualTo(steps * 3 / 4));
    }

    public static IEnumerable<TestCaseData> Cases() =>
        from name in Fixture.Names
        from dtype in new[] { WeightsDType.BF16, WeightsDType.Int8 }
        select new TestCaseData(name, dtype);
}
