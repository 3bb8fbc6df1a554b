using VallE.Runtime.Codec;
using VallE.Runtime.Models;
using VallE.Tests.Support;
using VallE.Weights;
using VallE.Weights.NumPy;

namespace VallE.Tests.Engine;

/// <summary>The engine against upstream PyTorch's own outputs on every shared fixture model.</summary>
[TestFixtureSource(typeof(Fixture), nameof(Fixture.Names))]
public sealed class FixtureParityTests(string name)
{
    private Fixture F => Fixture.Get(name);

    [Test]
    public void GreedyInferenceReproducesUpstreamCodesExactly()
    {
        var result = F.Model.Generate(F.Request());
        var expected = F.Codes("expected_codes.npy");
        CodeAssert.Equal(expected, result.Codes);
    }

    [Test]
    public void ArLogitsMatchUpstreamAtEveryStep()
    {
        var recorder = new LogitsRecorder();
        F.Model.Generate(F.Request(), recorder);
        var expected = Npy.Read(F.File("expected_ar_logits.npy"));
        int steps = (int)expected.Shape[0], vocab = (int)expected.Shape[1];
        Assert.That(recorder.Ar, Has.Count.EqualTo(steps), "AR steps");
        var flat = expected.ToFloat32();
        for (int s = 0; s < steps; s++)
            LogitAssert.Close(flat.AsSpan(s * vocab, vocab), recorder.Ar[s], $"AR step {s}");
    }

    [Test]
    public void NarLogitsMatchUpstreamAtEveryStage()
    {
        var recorder = new LogitsRecorder();
        F.Model.Generate(F.Request(), recorder);
        for (int stage = 1; stage < 8; stage++)
        {
            var expected = Npy.Read(F.File($"expected_nar_logits_stage{stage}.npy")).ToFloat32();
            LogitAssert.Close(expected, recorder.Nar[stage], $"NAR stage {stage}");
        }
    }

    [Test]
    public void ContinualReproducesUpstreamCodesExactly()
    {
        string input = F.File("continual_input_codes.npy");
        if (!File.Exists(input)) Assert.Ignore($"{name} has no continual fixture (VALL-E X has no continual parity data)");
        var result = F.Model.Continual(F.TextTokens, F.Codes("continual_input_codes.npy"));
        CodeAssert.Equal(F.Codes("expected_continual_codes.npy"), result.Codes);
    }
}

/// <summary>Collects the logits the engine reports (sequence 0 only).</summary>
internal sealed class LogitsRecorder : IInferenceObserver
{
    public List<float[]> Ar { get; } = [];
    public Dictionary<int, float[]> Nar { get; } = [];
    public Dictionary<int, List<float[]>> ArBySequence { get; } = [];

    public void OnArLogits(int sequence, int step, ReadOnlySpan<float> logits)
    {
        if (!ArBySequence.TryGetValue(sequence, out var list)) ArBySequence[sequence] = list = [];
        list.Add(logits.ToArray());
        if (sequence == 0) Ar.Add(logits.ToArray());
    }

    public void OnNarLogits(int sequence, int stage, int frames, ReadOnlySpan<float> logits)
    {
        if (sequence == 0) Nar[stage] = logits.ToArray();
    }
}

internal static class LogitAssert
{
    /// <summary>max |a - e| / max(1, max |e|) within 1e-4 (relative to the row's scale).</summary>
    public static double Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what, double tolerance = 1e-4)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), $"{what}: length");
        double maxErr = 0, scale = 1;
        for (int i = 0; i < expected.Length; i++)
        {
            maxErr = Math.Max(maxErr, Math.Abs(expected[i] - actual[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }
        Assert.That(maxErr / scale, Is.LessThanOrEqualTo(tolerance), $"{what}: max abs error {maxErr:g3} (scale {scale:g3})");
        return maxErr / scale;
    }
}

internal static class CodeAssert
{
    /// <summary>Same shape and codes; a failure names the first differing frame and codebook. A <c>long[,]</c> converts.</summary>
    public static void Equal(AudioCodes expected, AudioCodes actual)
    {
        Assert.That(actual.Codebooks, Is.EqualTo(expected.Codebooks), "codebooks");
        Assert.That(actual.Frames, Is.EqualTo(expected.Frames), "frames");
        ReadOnlySpan<long> e = expected.Span, a = actual.Span;
        for (int i = 0; i < e.Length; i++)
            if (e[i] != a[i])
                Assert.Fail($"codes differ first at frame {i / expected.Codebooks}, codebook {i % expected.Codebooks}: expected {e[i]}, got {a[i]}");
    }
}
