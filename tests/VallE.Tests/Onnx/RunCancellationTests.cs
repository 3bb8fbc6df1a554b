using VallE.Runtime.Onnx;
using VallE.Tests.Codec;

namespace VallE.Tests.Onnx;

/// <summary>
/// <see cref="OnnxSession.Run"/> with a <see cref="CancellationToken"/>: cancelling sets the run's terminate flag,
/// the run stops between nodes, and the caller gets <see cref="OperationCanceledException"/>.
/// </summary>
public class RunCancellationTests
{
    [Test]
    public void CancelledBeforeTheRunThrowsAndTheSessionStaysUsable()
    {
        using var session = OnnxSession.Open(TinyOnnxModels.Slow);
        using var x = OnnxValue.FromFloat32(new float[512], 1, 512);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => session.Run([("x", x)], ["y"], cts.Token));
        using var y = session.Run([("x", x)], ["y"], new CancellationTokenSource().Token)[0];
        Assert.That(y.Shape, Is.EqualTo(new long[] { 1, 512 }));
    }

    [Test]
    public void CancellingDuringTheRunStopsItWithOperationCanceled()
    {
        using var session = OnnxSession.Open(TinyOnnxModels.Slow);
        // 400 layers of [256, 512] x [512, 512]: seconds of work, so the cancel lands while ONNX Runtime runs.
        using var x = OnnxValue.FromFloat32(Enumerable.Range(0, 256 * 512).Select(i => (i % 7) * 0.1f).ToArray(), 256, 512);
        // The cancel must land after Run's check of the token, or it is that check that throws (no inner exception)
        // and this test learns nothing. On a loaded machine the test's thread can be held off the CPU for the whole
        // 100 ms before reaching the check: that attempt does not count, and the next one tries again (the run itself
        // takes seconds, so a cancel that lands once it has begun always lands while it works).
        for (int attempt = 1; ; attempt++)
        {
            using var cts = new CancellationTokenSource();
            cts.CancelAfter(TimeSpan.FromMilliseconds(100));
            var e = Assert.Throws<OperationCanceledException>(() => session.Run([("x", x)], ["y"], cts.Token));
            if (e!.InnerException is null && attempt < 5) continue;   // cancelled before the run began
            // Stopped by ONNX Runtime (the terminate flag), not by the check before the run.
            Assert.That(e.InnerException, Is.InstanceOf<OnnxRuntimeException>(), $"attempt {attempt}: {e}");
            Assert.That(e.Message, Does.Contain("inference cancelled"));
            Assert.That(e.CancellationToken, Is.EqualTo(cts.Token));
            break;
        }

        using var small = OnnxValue.FromFloat32(new float[512], 1, 512);
        using var y = session.Run([("x", small)], ["y"])[0];
        Assert.That(y.Shape, Is.EqualTo(new long[] { 1, 512 }));
    }
}
