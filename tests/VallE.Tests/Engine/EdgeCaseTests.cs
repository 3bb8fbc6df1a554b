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
        Assert.That(r.Codes.GetLength(0), Is.Zero);
        Assert.That(r.Codes.GetLength(1), Is.EqualTo(8));
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
        Assert.Throws<InvalidInputException>(() => f.Model.Generate(f.Request() with { PromptCodes = new long[0, 8] }));
    }
}
