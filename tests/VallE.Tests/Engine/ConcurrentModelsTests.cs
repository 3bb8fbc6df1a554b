using VallE.Runtime.Codec;
using VallE.Runtime.Models;
using VallE.Runtime.Sampling;

namespace VallE.Tests.Engine;

/// <summary>
/// Each model owns its CPU backend (worker pool, ISA, attention settings): two models with different thread counts
/// generating at the same time on two threads give exactly what each gives alone. With one process-wide pool
/// (before the per-model backend) each call re-applied its model's thread count under the other's feet.
/// </summary>
public sealed class ConcurrentModelsTests
{
    private const int Rounds = 3;

    [TestCaseSource(typeof(Fixture), nameof(Fixture.Names))]
    public void TwoModelsWithDifferentThreadCountsRunConcurrentlyAsAlone(string name)
    {
        var f = Fixture.Get(name);
        using var one = ValleModel.Load(f.Checkpoint, new EngineOptions { Threads = 1 });
        using var three = ValleModel.Load(f.Checkpoint, new EngineOptions { Threads = 3 });
        Assert.That((one.Backend.Threads, three.Backend.Threads), Is.EqualTo((1, 3)));
        // Greedy for one, seeded sampling for the other: a single flipped bit in the logits would show in the codes.
        var greedy = f.Request();
        var sampled = f.Request(new SamplingOptions { TopK = 20, Temperature = 1.0f, Seed = 7 });

        var aloneOne = Run(one, greedy);
        var aloneThree = Run(three, sampled);

        (AudioCodes Codes, List<float[]> Ar)[] concurrentOne = new (AudioCodes, List<float[]>)[Rounds];
        (AudioCodes Codes, List<float[]> Ar)[] concurrentThree = new (AudioCodes, List<float[]>)[Rounds];
        Exception? failure = null;
        using var start = new Barrier(2);
        var threads = new[]
        {
            new Thread(() => Loop(() => { for (int r = 0; r < Rounds; r++) concurrentOne[r] = Run(one, greedy); })),
            new Thread(() => Loop(() => { for (int r = 0; r < Rounds; r++) concurrentThree[r] = Run(three, sampled); })),
        };
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        if (failure is not null) throw new AssertionException($"a concurrent generation failed: {failure}");

        for (int r = 0; r < Rounds; r++)
        {
            Same(aloneOne, concurrentOne[r], $"1 thread, round {r}");
            Same(aloneThree, concurrentThree[r], $"3 threads, round {r}");
        }

        void Loop(Action body)
        {
            try { start.SignalAndWait(); body(); }
            catch (Exception e) { Interlocked.CompareExchange(ref failure, e, null); }
        }
    }

    [Test]
    public void ADisposedModelRefusesToGenerate()
    {
        var f = Fixture.Get(Fixture.Names[0]);
        var model = ValleModel.Load(f.Checkpoint, new EngineOptions { Threads = 2 });
        model.Dispose();
        Assert.Throws<ObjectDisposedException>(() => model.Generate(f.Request()));
    }

    private static (AudioCodes Codes, List<float[]> Ar) Run(ValleModel model, GenerationRequest request)
    {
        var logits = new LogitsRecorder();
        var result = model.Generate(request, logits);
        return (result.Codes, logits.Ar);
    }

    private static void Same((AudioCodes Codes, List<float[]> Ar) alone, (AudioCodes Codes, List<float[]> Ar) concurrent, string what)
    {
        CodeAssert.Equal(alone.Codes, concurrent.Codes);
        Assert.That(concurrent.Ar, Has.Count.EqualTo(alone.Ar.Count), $"{what}: AR steps");
        for (int s = 0; s < alone.Ar.Count; s++)
            Assert.That(concurrent.Ar[s], Is.EqualTo(alone.Ar[s]), $"{what}: AR logits of step {s} (bitwise)");
    }
}
