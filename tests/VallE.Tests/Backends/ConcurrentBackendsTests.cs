using VallE.Runtime.Backends;
using VallE.Runtime.Cpu;

namespace VallE.Tests.Backends;

/// <summary>
/// CPU compute backends share nothing: two of them, with different thread counts, running the same Linear and
/// Attention at the same time from two threads give exactly what a single-threaded backend gives.
/// </summary>
public class ConcurrentBackendsTests
{
    private const int Rows = 33, In = 256, Out = 1025, Dim = 64, Heads = 4;

    private static readonly AttentionSegment[] Segments = OpTableTests.Segs(true, (1, 0, 7, 3), (0, 0, 26, 10));

    /// <summary>Linear (f32 and bf16 weights) then attention of the linear's first 3·Dim columns; both outputs.</summary>
    private static (float[] F32, float[] Bf16, float[] Attention) Run(IComputeBackend b, int repeats, Action<int, (float[], float[], float[])>? check = null)
    {
        var w = TestData.Uniform(Out * In, 1);
        var bias = TestData.Uniform(Out, 2);
        var x = TestData.Uniform(Rows * In, 3);
        var qkv = TestData.Uniform(Rows * 3 * Dim, 4, scale: 2f);
        using var f32 = b.CreateLinear("f32", w, bias, Out, In, WeightsDType.F32);
        using var bf16 = b.CreateLinear("bf16", w, bias, Out, In, WeightsDType.BF16);
        using var xt = b.Allocate(TensorType.F32, Rows, In);
        using var yt = b.Allocate(TensorType.F32, Rows, Out);
        using var qt = b.Allocate(TensorType.F32, Rows, 3 * Dim);
        using var ot = b.Allocate(TensorType.F32, Rows, Dim);
        using var cache = b.CreateKvCache("kv", 2, 1, 32, Dim, keepsHistory: true);
        b.Write(xt.All, x);
        b.Write(qt.All, qkv);
        (float[], float[], float[]) result = default;
        for (int i = 0; i < repeats; i++)
        {
            var a = new float[Rows * Out];
            var c = new float[Rows * Out];
            var o = new float[Rows * Dim];
            b.Linear(f32, xt.All, yt.All, Activation.Relu);
            b.Read(yt.All, a);
            b.Linear(bf16, xt.All, yt.All);
            b.Read(yt.All, c);
            b.Attention(cache, 0, Heads, qt.All, Segments, ot.All);
            b.Read(ot.All, o);
            result = (a, c, o);
            check?.Invoke(i, result);
        }
        return result;
    }

    [Test]
    public void TwoBackendsWithDifferentThreadCountsRunConcurrentlyAndMatchOneThread()
    {
        (float[] F32, float[] Bf16, float[] Attention) expected;
        using (var single = TestBackends.Cpu(1)) expected = Run(single, 1);

        using var two = TestBackends.Cpu(2);
        using var three = TestBackends.Cpu(3);
        using var start = new Barrier(2);
        void Work(IComputeBackend b) => Run(b, 20, (i, r) =>
        {
            if (i == 0) start.SignalAndWait();
            TestData.AssertExact(r.Item1, expected.F32, $"{b} repeat {i}: f32 linear");
            TestData.AssertExact(r.Item2, expected.Bf16, $"{b} repeat {i}: bf16 linear");
            TestData.AssertExact(r.Item3, expected.Attention, $"{b} repeat {i}: attention");
        });
        var tasks = new[] { Task.Run(() => Work(two)), Task.Run(() => Work(three)) };
        Assert.That(Task.WaitAll(tasks, TimeSpan.FromSeconds(60)), Is.True, "both finish");
    }
}
