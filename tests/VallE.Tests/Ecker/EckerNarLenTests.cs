using VallE.Runtime.Codec;
using VallE.Runtime.Models.Ecker;
using VallE.Runtime.Sampling;
using VallE.Tests.Support;
using VallE.Weights;
using VallE.Weights.NumPy;
using VallE.Weights.Safetensors;

namespace VallE.Tests.Ecker;

/// <summary>
/// <c>narlen_d96</c>: upstream's len task (10 digit steps), NAR-len demasking (8 steps, CFG 2.5, rescale 0.75,
/// bidirectional: noncausal_masks) at length 16, then NAR 1..7.
/// </summary>
public class EckerNarLenTests
{
    private static string Fixture(string file) => TestPaths.RequireShared("ecker", "narlen_d96", file);

    private static EckerRequest Request()
    {
        var prompt = Npy.Read(Fixture("prompt_codes.npy"));
        return new EckerRequest
        {
            PhonemeTokens = Npy.Read(Fixture("text.npy")).ToInt64(),
            PromptCodes = new AudioCodes(prompt.ToInt64(), (int)prompt.Shape[0], (int)prompt.Shape[1]),
            Language = 2,
            MaxDuration = 40,
        };
    }

    private static (long Length, AudioCodes Codes, EckerRecorder Recorder)? _run;

    private static (long Length, AudioCodes Codes, EckerRecorder Recorder) Result => _run ??= Run();

    private static (long, AudioCodes, EckerRecorder) Run()
    {
        using var ckpt = ModelCheckpoint.Open(Fixture("fp32.sft"));
        using var model = EckerModel.Load(ckpt, threads: 2);
        var recorder = new EckerRecorder();
        long length = model.PredictLength(Request(), recorder);
        var codes = model.GenerateNarLen(Request(), new EckerDemaskOptions { Length = 16, Steps = 8, CfgStrength = 0f, CfgRescale = 0.75f }, recorder);
        return (length, codes, recorder);
    }

    [Test]
    public void LenTaskMatches()
    {
        Assert.That(Result.Length, Is.EqualTo(2310231023L));
        var want = Npy.Read(Fixture("len_logits.npy"));
        int steps = (int)want.Shape[0];
        var all = want.ToFloat32();
        double worst = 0;
        for (int s = 0; s < steps; s++)
            worst = Math.Max(worst, EckerArNarTests.MaxAbs(Result.Recorder.Logits[(EckerPass.Len, s)], all.AsSpan(s * 11, 11)));
        TestContext.Out.WriteLine($"narlen_d96 len logits: max abs error {worst:E2} over {steps} steps");
        Assert.That(worst, Is.LessThan(1e-4));
    }

    [Test]
    public void DemaskStepZeroInputsMatch()
    {
        var (emb, pos) = Result.Recorder.Inputs[(EckerPass.DemaskCond, 0)];
        Assert.That(pos.Select(p => (long)p).ToArray(), Is.EqualTo(Npy.Read(Fixture("demask_step0_position_ids.npy")).ToInt64()));
        Assert.That(emb, Is.EqualTo(Npy.Read(Fixture("demask_step0_inputs_embeds.npy")).ToFloat32()));
        var (nemb, npos) = Result.Recorder.Inputs[(EckerPass.DemaskNull, 0)];
        Assert.That(npos.Select(p => (long)p).ToArray(), Is.EqualTo(Npy.Read(Fixture("demask_step0_null_position_ids.npy")).ToInt64()));
        Assert.That(nemb, Is.EqualTo(Npy.Read(Fixture("demask_step0_null_inputs_embeds.npy")).ToFloat32()));
    }

    [Test]
    public void EveryDemaskStepMatches()
    {
        var inputs = Npy.Read(Fixture("demask_step_inputs.npy"));
        int steps = (int)inputs.Shape[0], T = (int)inputs.Shape[1], V = 1024;
        var tokens = inputs.ToInt64();
        foreach (var (pass, file) in new[] { (EckerPass.DemaskCond, "demask_cond_logits.npy"), (EckerPass.DemaskNull, "demask_null_logits.npy"), (EckerPass.DemaskCfg, "demask_cfg_logits.npy") })
        {
            var want = Npy.Read(Fixture(file)).ToFloat32();
            double worst = 0, scale = 0;
            for (int s = 0; s < steps; s++)
            {
                Assert.That(Result.Recorder.Tokens[(EckerPass.DemaskCond, s)].Select(v => (long)v).ToArray(),
                    Is.EqualTo(tokens.AsSpan(s * T, T).ToArray()), $"step {s} input tokens");
                var slice = want.AsSpan(s * T * V, T * V);
                worst = Math.Max(worst, EckerArNarTests.MaxAbs(Result.Recorder.Logits[(pass, s)], slice));
                scale = Math.Max(scale, EckerArNarTests.MaxAbs(slice));
            }
            TestContext.Out.WriteLine($"narlen_d96 {pass} logits: max abs error {worst:E2} (max |logit| {scale:F2}) over {steps} steps");
            Assert.That(worst, Is.LessThan(1e-4 * Math.Max(1, scale)), pass.ToString());
        }
    }

    [Test]
    public void CodesAndNarLogitsMatch()
    {
        var expected = Npy.Read(Fixture("expected_codes.npy"));
        Assert.That(Result.Codes.Span.ToArray(), Is.EqualTo(expected.ToInt64()));
        for (int level = 1; level <= 7; level++)
        {
            var want = Npy.Read(Fixture($"nar_logits_l{level}.npy")).ToFloat32();
            double err = EckerArNarTests.MaxAbs(Result.Recorder.Logits[(EckerPass.Nar, level)], want);
            TestContext.Out.WriteLine($"narlen_d96 NAR level {level} logits (bidirectional): max abs error {err:E2}");
            Assert.That(err, Is.LessThan(1e-4 * Math.Max(1, EckerArNarTests.MaxAbs(want))), $"level {level}");
        }
    }

    /// <summary>
    /// Causal masks (upstream's default noncausal_masks=False; narlen_d96 copied with that setting): demasking keeps
    /// step 0's prefix keys/values and runs only the output rows later. Against full passes every step (the oracle
    /// switch), the tokens of every step and the result are equal, the logits within float noise; with the sampler as
    /// well (the same draws, so the same tokens).
    /// </summary>
    [Test]
    public void CausalDemaskReusingThePrefixMatchesFullPasses()
    {
        using var tmp = new TempDir();
        string path = tmp.File("narlen-causal.sft");
        using (var f = SafetensorsFile.Open(Fixture("fp32.sft")))
        {
            var config = System.Text.Json.Nodes.JsonNode.Parse(f.Metadata["config"])!;
            config["experimental"]!["noncausal_masks"] = false;
            var metadata = new Dictionary<string, string>(f.Metadata) { ["config"] = config.ToJsonString() };
            SafetensorsWriter.Write(path, f.Tensors.Select(t => new SafetensorsWriter.Item(t.Name, t, t.DType)).ToList(), metadata);
        }
        var request = Request();
        using var ckpt = ModelCheckpoint.Open(path);
        using var model = EckerModel.Load(ckpt, threads: 2);
        Assert.That(model.Config.NoncausalMasks, Is.False);
        var options = new EckerDemaskOptions { Length = 24, Steps = 6 };
        foreach (var sampled in new[] { request, request with { Sampling = new EckerSamplingOptions { ArTemperature = 1.0f, Seed = 7 } } })
        {
            var (cached, full) = (new EckerRecorder(), new EckerRecorder());
            model.DemaskPrefixCache = true;
            int[] a = model.Demask(sampled, 24, options, cached);
            model.DemaskPrefixCache = false;
            int[] b = model.Demask(sampled, 24, options, full);
            Assert.That(a, Is.EqualTo(b));
            double worst = 0;
            for (int s = 0; s < options.Steps; s++)
            {
                Assert.That(cached.Tokens[(EckerPass.DemaskCond, s)], Is.EqualTo(full.Tokens[(EckerPass.DemaskCond, s)]), $"step {s}");
                foreach (var pass in new[] { EckerPass.DemaskCond, EckerPass.DemaskNull, EckerPass.DemaskCfg })
                    worst = Math.Max(worst, EckerArNarTests.MaxAbs(cached.Logits[(pass, s)], full.Logits[(pass, s)]));
            }
            TestContext.Out.WriteLine($"narlen_d96 causal copy, demask (sampling {sampled.Sampling is not null}): reused prefix vs full passes, max abs logit difference {worst:E2}");
            Assert.That(worst, Is.LessThan(1e-4));
        }
    }
}
