using VallE.Tests.Support;
using VallE.Runtime.Cpu;

namespace VallE.Tests.Cpu;

/// <summary>
/// A backend's persistent-thread parallel-for: coverage, nesting, errors, concurrent callers, zero allocation,
/// several backends side by side, disposal. Each test owns its backends: nothing here is process-wide.
/// </summary>
public class CpuBackendTests
{

    private struct CountingJob : IParallelJob
    {
        public int[] Hits;
        public void Execute(int index, int worker) => Interlocked.Increment(ref Hits[index]);
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(5)]
    public void EveryIndexRunsExactlyOnce(int threads)
    {
        using var backend = new CpuBackend(threads);
        foreach (int count in new[] { 0, 1, 2, 3, 7, 64, 1000 })
        {
            for (int repeat = 0; repeat < 50; repeat++)
            {
                var job = new CountingJob { Hits = new int[count] };
                backend.For(count, ref job);
                Assert.That(job.Hits, Is.All.EqualTo(1), $"count {count}, repeat {repeat}");
            }
        }
    }

    private struct NestedJob : IParallelJob
    {
        public CpuBackend Inner;
        public int[] Hits;
        public void Execute(int index, int worker)
        {
            var inner = new CountingJob { Hits = new int[4] };
            Inner.For(4, ref inner);   // runs inline: we are inside a job (of this backend or another's)
            Interlocked.Add(ref Hits[index], inner.Hits.Sum());
        }
    }

    [Test]
    public void NestedCallsRunInline()
    {
        using var backend = new CpuBackend(3);
        using var other = new CpuBackend(2);
        foreach (var inner in new[] { backend, other })
        {
            var job = new NestedJob { Inner = inner, Hits = new int[16] };
            backend.For(16, ref job);
            Assert.That(job.Hits, Is.All.EqualTo(4));
        }
    }

    private struct ThrowingJob : IParallelJob
    {
        public int[] Hits;
        public void Execute(int index, int worker)
        {
            Interlocked.Increment(ref Hits[index]);
            if (index == 5) throw new InvalidOperationException("item 5 failed");
        }
    }

    [Test]
    public void AnExceptionReachesTheCallerAfterAllItemsFinish()
    {
        using var backend = new CpuBackend(3);
        var job = new ThrowingJob { Hits = new int[40] };
        var e = Assert.Throws<InvalidOperationException>(() => backend.For(40, ref job));
        Assert.That(e!.Message, Is.EqualTo("item 5 failed"));
        Assert.That(job.Hits, Is.All.EqualTo(1));

        // The pool is still usable.
        var ok = new CountingJob { Hits = new int[40] };
        backend.For(40, ref ok);
        Assert.That(ok.Hits, Is.All.EqualTo(1));
    }

    [Test]
    public void CallersOnSeveralThreadsAllComplete()
    {
        using var backend = new CpuBackend(3);
        var failures = 0;
        var callers = Enumerable.Range(0, 3).Select(_ => new Thread(() =>
        {
            for (int i = 0; i < 200; i++)
            {
                var job = new CountingJob { Hits = new int[17] };
                backend.For(17, ref job);
                if (job.Hits.Any(h => h != 1)) Interlocked.Increment(ref failures);
            }
        })).ToList();
        callers.ForEach(t => t.Start());
        callers.ForEach(t => t.Join());
        Assert.That(failures, Is.Zero);
    }

    private struct SumJob : IParallelJob
    {
        public long[] Sums;
        public void Execute(int index, int worker) => Sums[index] = index;
    }

    [Test]
    public void ADispatchAllocatesNothing()
    {
        using var backend = new CpuBackend(3);
        var job = new SumJob { Sums = new long[64] };
        for (int i = 0; i < 100; i++) backend.For(64, ref job);   // warm: pool started, code jitted
        Assert.That(Allocations.SteadyState(_ => backend.For(64, ref job), calls: 1000), Is.Zero);
        Assert.That(job.Sums[63], Is.EqualTo(63));
    }

    /// <summary>Per-worker scratch: claims the worker's slot for the item's duration; a second claimant would fail.</summary>
    private sealed class ScratchJob(int threads) : IParallelJob
    {
        public readonly int[] Busy = new int[threads];
        public readonly int[] ItemsPerWorker = new int[threads];
        public int Collisions;
        public int Hits;

        public void Execute(int index, int worker)
        {
            if (Interlocked.Exchange(ref Busy[worker], 1) != 0) Interlocked.Increment(ref Collisions);
            Thread.SpinWait(200);
            ItemsPerWorker[worker]++;
            Interlocked.Increment(ref Hits);
            Volatile.Write(ref Busy[worker], 0);
        }
    }

    [TestCase(2)]
    [TestCase(3)]
    public void WorkerIndicesAreInRangeAndNeverShared(int threads)
    {
        using var backend = new CpuBackend(threads);
        var job = new ScratchJob(threads);   // a class job; an index >= threads would throw IndexOutOfRange
        for (int i = 0; i < 100; i++) backend.For(50, ref job);
        Assert.That(job.Collisions, Is.Zero);
        Assert.That(job.Hits, Is.EqualTo(5000));
        Assert.That(job.ItemsPerWorker.Sum(), Is.EqualTo(5000));
    }

    [Test]
    public void AJobTypedAsTheInterfaceWorks()
    {
        using var backend = new CpuBackend(2);
        IParallelJob job = new ScratchJob(2);
        backend.For(30, ref job);
        Assert.That(((ScratchJob)job).Hits, Is.EqualTo(30));
    }


    [Test]
    public void SettingsAreFixedAtConstruction()
    {
        using var backend = new CpuBackend(3, KernelIsa.Scalar, blockedAttention: false);
        Assert.That(backend.Threads, Is.EqualTo(3));
        Assert.That(backend.Isa, Is.EqualTo(KernelIsa.Scalar));
        Assert.That(backend.BlockedAttention, Is.False);
        using var defaults = new CpuBackend();
        Assert.That(defaults.Threads, Is.EqualTo(Environment.ProcessorCount));
        Assert.That(defaults.Isa, Is.EqualTo(CpuBackend.BestIsa));
        Assert.That(defaults.BlockedAttention, Is.True);
    }

    [Test]
    public void BadSettingsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new CpuBackend(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CpuBackend(2, (KernelIsa)42));
        if (CpuBackend.BestIsa < KernelIsa.Avx512)
            Assert.Throws<PlatformNotSupportedException>(() => new CpuBackend(2, KernelIsa.Avx512));
    }

    [Test]
    public void BackendsWithDifferentThreadCountsRunConcurrently()
    {
        // Each backend's worker indices stay below its own thread count while the other runs at the same time.
        using var one = new CpuBackend(1);
        using var three = new CpuBackend(3);
        var failures = 0;
        var callers = new[] { (one, 1), (three, 3) }.Select(p => new Thread(() =>
        {
            var (backend, threads) = p;
            var job = new ScratchJob(threads);
            for (int i = 0; i < 300; i++) backend.For(40, ref job);
            if (job.Collisions != 0 || job.Hits != 300 * 40) Interlocked.Increment(ref failures);
        })).ToList();
        callers.ForEach(t => t.Start());
        callers.ForEach(t => t.Join());
        Assert.That(failures, Is.Zero);
    }

    [Test]
    public void ADisposedBackendRefusesWork()
    {
        var backend = new CpuBackend(3);
        var job = new CountingJob { Hits = new int[8] };
        backend.For(8, ref job);
        backend.Dispose();
        backend.Dispose();   // twice is fine
        job = new CountingJob { Hits = new int[8] };
        Assert.Throws<ObjectDisposedException>(() => backend.For(8, ref job));
    }
}
