using VallE.Weights;

namespace VallE.Tests.Models;

/// <summary>Hyper-parameter inference from tensors, precedence (override &gt; stored &gt; inferred &gt; default), validation.</summary>
public class LayoutResolutionTests
{
    private static ConfigResolver.Result Resolve(ModelConfig config, HyperParameters? stored = null, ConfigOverrides? overrides = null, bool tie = true)
    {
        var tensors = InMemoryModels.StateDict(config, tie: tie);
        var result = ConfigResolver.Resolve(tensors, stored ?? HyperParameters.Empty, overrides ?? ConfigOverrides.None);
        LayoutValidator.Validate(result.Config, tensors);
        return result;
    }

    public static IEnumerable<TestCaseData> Layouts()
    {
        var tiny = InMemoryModels.Tiny();
        yield return new TestCaseData(tiny).SetName("valle");
        yield return new TestCaseData(InMemoryModels.Tiny(ModelFamily.Vallf)).SetName("vallf");
        yield return new TestCaseData(tiny with { AddPrenet = true }).SetName("add_prenet");
        yield return new TestCaseData(tiny with { NormFirst = false }).SetName("post_norm");
        yield return new TestCaseData(tiny with { PrependBos = true }).SetName("prepend_bos");
        yield return new TestCaseData(tiny with { ScaleFactor = 2, NarDModel = 32, NarNHead = 8, NarNumLayers = 4 }).SetName("scale_factor_2");
        yield return new TestCaseData(tiny with { ShareEmbedding = false }).SetName("no_share");
        yield return new TestCaseData(tiny with { NumQuantizers = 4 }).SetName("four_quantizers");
        yield return new TestCaseData(InMemoryModels.Tiny(ModelFamily.VallEX)).SetName("vallex");
        yield return new TestCaseData(InMemoryModels.Tiny(ModelFamily.Vallf) with { AddPrenet = true, NormFirst = false }).SetName("vallf_prenet_postnorm");
    }

    [TestCaseSource(nameof(Layouts))]
    public void InfersEveryLayoutFromTensorsAlone(ModelConfig config)
    {
        // Heads and prefix_mode are invisible in tensors: give them as overrides, infer everything else.
        var r = Resolve(config, overrides: new ConfigOverrides { NHead = config.NHead, PrefixMode = config.PrefixMode });
        Assert.That(r.Config, Is.EqualTo(config));
        Assert.That(r.Sources["d_model"], Is.EqualTo(ConfigSource.Inferred));
        Assert.That(r.Sources["norm_first"], Is.EqualTo(ConfigSource.Inferred));
        Assert.That(r.Sources["nhead"], Is.EqualTo(ConfigSource.Override));
        Assert.That(r.OverrideNotes, Has.Count.EqualTo(2));
    }

    [Test]
    public void VallEXDefaultsAreSixteenHeadsAndPrefixModeOne()
    {
        var config = InMemoryModels.Tiny(ModelFamily.VallEX) with { DModel = 64, NarDModel = 64 };
        var r = Resolve(config);
        Assert.That(r.Config.Family, Is.EqualTo(ModelFamily.VallEX));
        Assert.That(r.Config.NHead, Is.EqualTo(16));
        Assert.That(r.Config.PrefixMode, Is.EqualTo(1));
        Assert.That(r.Config.PrependBos, Is.True);
        Assert.That(r.Config.NumLanguages, Is.EqualTo(3));
        Assert.That(r.Config.TextVocab, Is.EqualTo(2048));
        Assert.That(r.Sources["nhead"], Is.EqualTo(ConfigSource.Default));
        Assert.That(r.Sources["prefix_mode"], Is.EqualTo(ConfigSource.Default));
        Assert.That(r.Sources["prepend_bos"], Is.EqualTo(ConfigSource.Inferred));
        Assert.That(r.OverrideNotes, Is.Empty);
    }

    [Test]
    public void StoredValuesBeatInferenceAndOverridesBeatBoth()
    {
        var config = InMemoryModels.Tiny();
        var stored = new HyperParameters();
        stored.Set("nhead", 2L);
        stored.Set("prefix_mode", 2L);
        stored.Set("family", ModelFamily.Valle);
        var r = Resolve(config, stored);
        Assert.That(r.Config.NHead, Is.EqualTo(2));
        Assert.That(r.Sources["nhead"], Is.EqualTo(ConfigSource.Checkpoint));
        Assert.That(r.Sources["family"], Is.EqualTo(ConfigSource.Checkpoint));

        r = Resolve(config, stored, new ConfigOverrides { NHead = 8 });
        Assert.That(r.Config.NHead, Is.EqualTo(8));
        Assert.That(r.Config.NarNHead, Is.EqualTo(8));
        Assert.That(r.Config.PrefixMode, Is.EqualTo(2));
        Assert.That(r.Sources["nhead"], Is.EqualTo(ConfigSource.Override));
        Assert.That(r.OverrideNotes.Single(), Is.EqualTo("nhead = 8 (override; the checkpoint says 2)"));
    }

    [Test]
    public void LanguageEmbeddingsMakeVallEXEvenWhenTheFileSaysVallE()
    {
        var stored = new HyperParameters();
        stored.Set("family", ModelFamily.Valle);
        var r = Resolve(InMemoryModels.Tiny(ModelFamily.VallEX), stored);
        Assert.That(r.Config.Family, Is.EqualTo(ModelFamily.VallEX));
        Assert.That(r.Sources["family"], Is.EqualTo(ConfigSource.Inferred));
    }

    [Test]
    public void UntiedCopiesWithEqualValuesStillCountAsShared()
    {
        var r = Resolve(InMemoryModels.Tiny(), tie: false);
        Assert.That(r.Config.ShareEmbedding, Is.True);
    }

    [Test]
    public void HeadsThatDoNotDivideTheWidthAreAnArgumentErrorWhenOverridden()
    {
        var e = Assert.Throws<ArgumentException>(() => Resolve(InMemoryModels.Tiny(), overrides: new ConfigOverrides { NHead = 5 }));
        Assert.That(e!.Message, Does.Contain("nhead 5 does not divide d_model 16"));
        Assert.That(e.ParamName, Is.EqualTo(nameof(ConfigOverrides.NHead)));
    }

    [Test]
    public void DefaultHeadsThatDoNotDivideTheWidthAskForNHead()
    {
        var config = InMemoryModels.Tiny(ModelFamily.VallEX) with { DModel = 24, NarDModel = 24 };
        var e = Assert.Throws<InvalidInputException>(() => Resolve(config));
        Assert.That(e!.Message, Does.Contain("nhead 16 does not divide d_model 24 (the checkpoint does not store nhead and the default is 16)"));
        Assert.That(e.Message, Does.Not.Contain("--"), "the library names no CLI flag");
        Assert.That(e.Setting, Is.EqualTo(nameof(ConfigOverrides.NHead)), "the CLI turns this into 'pass --nhead'");
    }

    [Test]
    public void HeadsThatDoNotDivideTheWidthAreInvalidInputWhenStored()
    {
        var stored = new HyperParameters();
        stored.Set("nhead", 3L);
        var e = Assert.Throws<InvalidInputException>(() => Resolve(InMemoryModels.Tiny(), stored));
        Assert.That(e!.Message, Does.Contain("nhead 3"));
    }

    [Test]
    public void ReportsMissingMisShapedAndUnexpectedAllAtOnce()
    {
        var config = InMemoryModels.Tiny();
        var tensors = InMemoryModels.StateDict(config);
        tensors.Remove("ar_decoder.layers.1.linear1.bias");
        tensors.Remove("nar_stage_embeddings.3.word_embeddings.weight");
        tensors["ar_decoder.layers.0.norm1.weight"] = InMemoryModels.Float32("x", [17], new Random(1));
        tensors["speaker_embedding.weight"] = InMemoryModels.Float32("s", [4, 16], new Random(1));
        var r = ConfigResolver.Resolve(tensors, HyperParameters.Empty, ConfigOverrides.None);
        var e = Assert.Throws<InvalidInputException>(() => LayoutValidator.Validate(r.Config, tensors));
        Assert.That(e!.Message, Does.Contain("2 missing ('ar_decoder.layers.1.linear1.bias' [64], 'nar_stage_embeddings.3.word_embeddings.weight' [1, 16])"));
        Assert.That(e.Message, Does.Contain("1 mis-shaped ('ar_decoder.layers.0.norm1.weight' is [17], expected [16])"));
        Assert.That(e.Message, Does.Contain("1 unexpected ('speaker_embedding.weight')"));
    }

    [Test]
    public void ManyProblemsAreSummarisedWithCounts()
    {
        var config = InMemoryModels.Tiny();
        var tensors = InMemoryModels.StateDict(config);
        var stored = new HyperParameters();
        stored.Set("d_model", 32L); // the tensors are 16 wide: nearly everything is mis-shaped
        var r = ConfigResolver.Resolve(tensors, stored, ConfigOverrides.None);
        var e = Assert.Throws<InvalidInputException>(() => LayoutValidator.Validate(r.Config, tensors));
        Assert.That(e!.Message, Does.Match(@"\d+ mis-shaped \(.*, and \d+ more\)"));
    }

    [Test]
    public void WrongDtypeIsReported()
    {
        var config = InMemoryModels.Tiny() with { AddPrenet = true };
        var tensors = InMemoryModels.StateDict(config);
        tensors["ar_text_prenet.2.num_batches_tracked"] = InMemoryModels.Float32("n", [], new Random(1));
        var r = ConfigResolver.Resolve(tensors, HyperParameters.Empty, ConfigOverrides.None);
        var e = Assert.Throws<InvalidInputException>(() => LayoutValidator.Validate(r.Config, tensors));
        Assert.That(e!.Message, Does.Contain("'ar_text_prenet.2.num_batches_tracked' is f32, expected an integer dtype"));
    }

    [Test]
    public void ForeignStateDictIsNotAVallECheckpoint()
    {
        var tensors = new Dictionary<string, TensorData>
        {
            ["encoder.conv.weight"] = InMemoryModels.Float32("a", [4, 4], new Random(1)),
            ["decoder.fc.bias"] = InMemoryModels.Float32("b", [4], new Random(1)),
        };
        var e = Assert.Throws<InvalidInputException>(() => ConfigResolver.Resolve(tensors, HyperParameters.Empty, ConfigOverrides.None));
        Assert.That(e!.Message, Does.StartWith("not a VALL-E checkpoint:").And.Contains("'encoder.conv.weight'"));
    }

    [Test]
    public void SingleQuantizerModelHasNoNar()
    {
        var config = InMemoryModels.Tiny() with { NumQuantizers = 1 };
        var tensors = InMemoryModels.StateDict(config);
        Assert.That(tensors.Keys, Has.None.StartsWith("nar_decoder"));
        var r = Resolve(config, overrides: new ConfigOverrides { NHead = 4 });
        Assert.That(r.Config.NumQuantizers, Is.EqualTo(1));
    }

    [Test]
    public void ParameterCountCountsTiedWeightsOnceAndSkipsBatchNormStatistics()
    {
        var config = InMemoryModels.Tiny() with { AddPrenet = true };
        var tensors = InMemoryModels.StateDict(config);
        using var ckpt = InMemoryModels.Checkpoint(config, tensors);
        long all = ModelLayout.Expected(config).Where(e => !e.IsBuffer).Sum(e => e.Shape.Aggregate(1L, (a, b) => a * b));
        long tied = ModelLayout.Ties(config).Count * 1024L * 16;
        Assert.That(ckpt.ParameterCount, Is.EqualTo(all - tied));
        Assert.That(ckpt.TiedTensors, Has.Count.EqualTo(6));
    }
}
