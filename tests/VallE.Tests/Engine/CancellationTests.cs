using VallE.Runtime.Models;
using VallE.Tests.Models;
using VallE.Weights;

namespace VallE.Tests.Engine;

/// <summary>
/// The engine stops where it is asked to: before the prefill, between AR steps and between NAR stages (the token is
/// checked before every decoder layer), and a stopped model generates normally afterwards.
/// </summary>
public sealed class CancellationTests
{
    private static ValleModel Model()
    {
        var config = InMemoryModels.Tiny();
        using var ckpt = InMemoryModels.Checkpoint(config, InMemoryModels.StateDict(config));
        return ValleModel.Load(ckpt, new EngineOptions { Threads = 1 });
    }

    private static GenerationRequest Request() => new()
    {
        TextTokens = [1, 5, 9, 7, 11, 2],
        PromptCodes = new long[4, 8],
        Sampling = new() { TopK = 1 },
        MaxFrames = 40,
    };

    /// <summary>Cancels at one point of generation, as seen through the observer.</summary>
    private sealed class CancelAt(CancellationTokenSource cts, int arStep = -1, int narStage = -1) : IInferenceObserver
    {
        public int LastArStep = -1, LastNarStage = -1;

        public void OnArLogits(int sequence, int step, ReadOnlySpan<float> logits)
        {
            LastArStep = step;
            if (step == arStep) cts.Cancel();
        }

        public void OnNarLogits(int sequence, int stage, int frames, ReadOnlySpan<float> logits)
        {
            LastNarStage = stage;
            if (stage == narStage) cts.Cancel();
        }
    }

    [Test]
    public void AnAlreadyCancelledTokenStopsBeforeAnyWork()
    {
        var model = Model();
        var observer = new CancelAt(new CancellationTokenSource());
        Assert.Throws<OperationCanceledException>(() => model.Generate(Request(), observer, new CancellationToken(canceled: true)));
        Assert.That(observer.LastArStep, Is.EqualTo(-1));
    }

    [Test]
    public void CancellingDuringTheArStopsAtTheNextStep()
    {
        var model = Model();
        using var cts = new CancellationTokenSource();
        var observer = new CancelAt(cts, arStep: 3);
        Assert.Throws<OperationCanceledException>(() => model.Generate(Request() with { Sampling = new() { TopK = 1 } }, observer, cts.Token));
        Assert.That(observer.LastArStep, Is.EqualTo(3), "no AR step after the one that cancelled");
        Assert.That(observer.LastNarStage, Is.EqualTo(-1));
    }

    [Test]
    public void CancellingDuringTheNarStopsAtTheNextStage()
    {
        var model = Model();
        using var cts = new CancellationTokenSource();
        var observer = new CancelAt(cts, narStage: 2);
        Assert.Throws<OperationCanceledException>(() => model.Generate(Request(), observer, cts.Token));
        Assert.That(observer.LastNarStage, Is.EqualTo(2));

        var again = model.Generate(Request());
        Assert.That(again.Frames, Is.GreaterThan(0), "the model is usable after a cancelled call");
    }

    [Test]
    public void TooManyTextTokensForOneUtterance()
    {
        var model = Model();
        var text = Enumerable.Repeat(5L, GenerationRequest.MaxTextTokens + 1).ToArray();
        var e = Assert.Throws<InvalidInputException>(() => model.Generate(Request() with { TextTokens = text }));
        Assert.That(e!.Message, Does.Contain($"at most {GenerationRequest.MaxTextTokens}"));
    }
}
