using VallE.Runtime.Models;
using VallE.Tests.Models;
using VallE.Weights;

namespace VallE.Tests.Engine;

/// <summary>Limits and refusals of the engine API (the CLI tests cover the same through exit codes).</summary>
public sealed class EdgeCaseTests
{
    [Test]
    public void MaxFramesZeroGivesAnEmptyCodeMatrix()
    {
        var f = Fixture.Get("vallex-tiny");
        var r = f.Model.Generate(f.Request() with { MaxFrames = 0 });
        Assert.That(r.Codes.Frames, Is.Zero);
        Assert.That(r.Codes.Codebooks, Is.EqualTo(8));
        Assert.That(r.StopReason, Is.EqualTo("max-frames"));
    }

    [Test]
    public void MaxFramesCapsGeneration()
    {
        var f = Fixture.Get("vallex-tiny");
        var full = f.Model.Generate(f.Request());
        var r = f.Model.Generate(f.Request() with { MaxFrames = 17 });
        Assert.That(r.Frames, Is.EqualTo(17));
        for (int t = 0; t < 17; t++) Assert.That(r.Codes[t, 0], Is.EqualTo(full.Codes[t, 0]), "the AR prefix is unchanged");
    }

    [Test]
    public void VallEXWithoutAVoicePromptRuns()
    {
        // Upstream's generation.py without a prompt: [1, 0, 8] codes, enroll_x_lens 0, the AR starts from BOS alone.
        var f = Fixture.Get("vallex-tiny");
        var r = f.Model.Generate(f.Request() with { PromptCodes = new long[0, 8], EnrollTokens = 0, MaxFrames = 20 });
        Assert.That(r.Frames, Is.GreaterThan(0));
        Assert.That(r.Codes.Codebooks, Is.EqualTo(8));
    }

    [Test]
    public void PerTokenTextLanguagesEqualTheSingleLanguageWhenAllTheSame()
    {
        var f = Fixture.Get("vallex-tiny");
        var single = f.Model.Generate(f.Request());
        int rest = f.TextTokens.Length - f.EnrollTokens;
        var list = f.Model.Generate(f.Request() with { TextLanguage = null, TextLanguages = Enumerable.Repeat(f.TextLanguage!, rest).ToArray() });
        CodeAssert.Equal(single.Codes, list.Codes);
        var mixed = f.Model.Generate(f.Request() with { TextLanguages = [.. Enumerable.Repeat("en", rest - 3), "ja", "ja", "zh"] });
        Assert.That(mixed.Codes, Is.Not.EqualTo(single.Codes), "the per-token languages reach the model");
    }

    [Test]
    public void VallfIsRefusedWithAClearError()
    {
        var config = InMemoryModels.Tiny(ModelFamily.Vallf);
        using var checkpoint = InMemoryModels.Checkpoint(config, InMemoryModels.StateDict(config));
        var e = Assert.Throws<InvalidInputException>(() => ValleModel.Load(checkpoint));
        Assert.That(e!.Message, Does.Contain("VALL-F"));
    }

    [Test]
    public void EmptyTextAndMissingLanguagesAreInvalidInput()
    {
        var f = Fixture.Get("vallex-tiny");
        Assert.Throws<InvalidInputException>(() => f.Model.Generate(f.Request() with { TextTokens = [] }));
        Assert.Throws<InvalidInputException>(() => f.Model.Generate(f.Request() with { PromptLanguage = null }));
        Assert.Throws<InvalidInputException>(() => f.Model.Generate(f.Request() with { EnrollTokens = null }));
        Assert.Throws<InvalidInputException>(() => f.Model.Generate(f.Request() with { TextLanguages = ["en", "en"] }));
        Assert.Throws<InvalidInputException>(() => f.Model.Continual(f.TextTokens, new long[0, 8]));
    }
}
