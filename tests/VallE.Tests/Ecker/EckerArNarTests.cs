using VallE.Runtime.Backends;
using VallE.Runtime.Codec;
using VallE.Runtime.Cpu;
using VallE.Runtime.Models.Ecker;
using VallE.Tests.Support;
using VallE.Weights;
using VallE.Weights.NumPy;

namespace VallE.Tests.Ecker;

/// <summary>Records what an <see cref="EckerModel"/> computes.</summary>
internal sealed class EckerRecorder : IEckerObserver
{
    public readonly Dictionary<(EckerPass, int), (float[] Embeddings, int[] Positions)> Inputs = [];
    public readonly Dictionary<(EckerPass, int), float[]> Logits = [];

    void IEckerObserver.Inputs(EckerPass pass, int index, ReadOnlySpan<float> embeddings, ReadOnlySpan<int> positions) =>
        Inputs[(pass, index)] = (embeddings.ToArray(), positions.ToArray());

    void IEckerObserver.Logits(EckerPass pass, int index, ReadOnlySpan<float> logits, int rows, int vocab) => Logits[(pass, index)] = logits.ToArray();

    public readonly Dictionary<(EckerPass, int), int[]> Tokens = [];

    void IEckerObserver.Tokens(EckerPass pass, int index, ReadOnlySpan<int> tokens) => Tokens[(pass, index)] = tokens.ToArray();
}

/// <summary>
/// <c>arnar_d64</c> (../shared/fixtures/ecker): upstream's AR_NAR at commit 73833ee, greedy AR then NAR 1..7, causal
/// masks everywhere. Our KV-cached AR and NAR passes reproduce its codes exactly, the step-0 inputs and positions,
/// and its logits (max abs error printed).
/// </summary>
public class EckerArNarTests
{
    internal static string Fixture(string file) => TestPaths.RequireShared("ecker", "arnar_d64", file);

    internal static (EckerRequest Request, AudioCodes Codes, EckerRecorder Recorder) Run(IComputeBackend? backend = null)
    {
        var text = Npy.Read(Fixture("text.npy")).ToInt64();
        var prompt = Npy.Read(Fixture("prompt_codes.npy"));
        var request = new EckerRequest
        {
            PhonemeTokens = text,
            PromptCodes = new AudioCodes(prompt.ToInt64(), (int)prompt.Shape[0], (int)prompt.Shape[1]),
            Language = 0,
            MaxDuration = 40,
            MaxLevels = 7,
        };
        using var ckpt = ModelCheckpoint.Open(Fixture("fp32.sft"));
        using var model = backend is null ? EckerModel.Load(ckpt, threads: 2) : EckerModel.Load(ckpt, backend);
        var recorder = new EckerRecorder();
        var codes = model.Generate(request, recorder);
        return (request, codes, recorder);
    }

    private static (EckerRequest Request, AudioCodes Codes, EckerRecorder Recorder)? _run;
    private static (EckerRequest Request, AudioCodes Codes, EckerRecorder Recorder) Result => _run ??= Run();

    internal static double MaxAbs(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.That(a.Length, Is.EqualTo(b.Length), "lengths");
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }

    internal static double MaxAbs(ReadOnlySpan<float> a) { double m = 0; foreach (float v in a) m = Math.Max(m, Math.Abs(v)); return m; }

    [Test]
    public void CodesMatchUpstreamGreedy()
    {
        var expected = Npy.Read(Fixture("expected_codes.npy"));
        var codes = Result.Codes;
        Assert.That((codes.Frames, codes.Codebooks), Is.EqualTo(((int)expected.Shape[0], (int)expected.Shape[1])));
        Assert.That(codes.Span.ToArray(), Is.EqualTo(expected.ToInt64()));
    }

    [Test]
    public void StepZeroInputsAndPositionsMatch()
    {
        var (emb, pos) = Result.Recorder.Inputs[(EckerPass.Ar, 0)];
        var expectedPos = Npy.Read(Fixture("ar_step0_position_ids.npy")).ToInt64();
        Assert.That(pos.Select(p => (long)p).ToArray(), Is.EqualTo(expectedPos));
        var expectedEmb = Npy.Read(Fixture("ar_step0_inputs_embeds.npy")).ToFloat32();
        Assert.That(emb, Is.EqualTo(expectedEmb), "AR step-0 embeddings (exact: the same float32 sums)");

        var (nemb, npos) = Result.Recorder.Inputs[(EckerPass.Nar, 1)];
        Assert.That(npos.Select(p => (long)p).ToArray(), Is.EqualTo(Npy.Read(Fixture("nar_l1_position_ids.npy")).ToInt64()));
        Assert.That(nemb, Is.EqualTo(Npy.Read(Fixture("nar_l1_inputs_embeds.npy")).ToFloat32()), "NAR level-1 embeddings");
    }

    [Test]
    public void ArLogitsMatch()
    {
        var expected = Npy.Read(Fixture("ar_logits.npy"));
        int steps = (int)expected.Shape[0], vocab = (int)expected.Shape[1];
        var all = expected.ToFloat32();
        Assert.That(Result.Recorder.Logits.Keys.Count(k => k.Item1 == EckerPass.Ar), Is.EqualTo(steps), "AR steps");
        double worst = 0, scale = 0;
        for (int s = 0; s < steps; s++)
        {
            var want = all.AsSpan(s * vocab, vocab);
            worst = Math.Max(worst, MaxAbs(Result.Recorder.Logits[(EckerPass.Ar, s)], want));
            scale = Math.Max(scale, MaxAbs(want));
        }
        TestContext.Out.WriteLine($"arnar_d64 AR logits: max abs error {worst:E2} (max |logit| {scale:F2}) over {steps} steps");
        Assert.That(worst, Is.LessThan(1e-4 * Math.Max(1, scale)));
    }

    [Test]
    public void NarLogitsMatch()
    {
        for (int level = 1; level <= 7; level++)
        {
            var want = Npy.Read(Fixture($"nar_logits_l{level}.npy")).ToFloat32();
            double err = MaxAbs(Result.Recorder.Logits[(EckerPass.Nar, level)], want), scale = MaxAbs(want);
            TestContext.Out.WriteLine($"arnar_d64 NAR level {level} logits: max abs error {err:E2} (max |logit| {scale:F2})");
            Assert.That(err, Is.LessThan(1e-4 * Math.Max(1, scale)), $"level {level}");
        }
    }

    [Test]
    public void CudaSupportsTheModel()
    {
        // No device needed: what the CUDA backend supports depends on no GPU property. fp32 weights: every op has a
        // kernel (RmsNorm, Rope, GatedGelu since ABI 5); bf16 linear layers are still refused.
        using var ckpt = ModelCheckpoint.Open(Fixture("fp32.sft"));
        var missing = EckerModel.Requirements(ckpt.Config.Ecker!, WeightsDType.F32)
            .Where(op => !VallE.Runtime.Cuda.CudaComputeBackend.SupportsOp(op, out _)).Select(op => op.Op).ToArray();
        Assert.That(missing, Is.Empty);
        var bf16 = EckerModel.Requirements(ckpt.Config.Ecker!, WeightsDType.BF16)
            .Where(op => !VallE.Runtime.Cuda.CudaComputeBackend.SupportsOp(op, out _)).Select(op => op.Op).ToArray();
        Assert.That(bf16, Is.EqualTo(new[] { OpKind.Linear }));
    }

    [Test]
    public void MaxDurationCapsTheAr()
    {
        var (request, _, _) = Result;
        using var ckpt = ModelCheckpoint.Open(Fixture("fp32.sft"));
        using var model = EckerModel.Load(ckpt, threads: 2);
        var capped = model.GenerateAr(request with { MaxDuration = 3 });
        var expected = Npy.Read(Fixture("expected_codes.npy")).ToInt64();
        Assert.That(capped, Is.EqualTo(new[] { expected[0], expected[8], expected[16] }.Select(v => (int)v).ToArray()));
    }
}
