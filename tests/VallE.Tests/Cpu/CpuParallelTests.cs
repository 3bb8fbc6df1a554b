using VallE.Runtime.Cpu;

namespace VallE.Tests.Cpu;

/// <summary>The persistent-thread parallel-for: coverage, nesting, errors, concurrent callers, zero allocation.</summary>
[NonParallelizable]
public class CpuParallelTests
{
    private int _savedThreads;

    [SetUp] public void SaveThreads() => _savedThreads = CpuParallel.Threads;
    [TearDown] public void RestoreThreads() => CpuParallel.Threads = _savedThreads;

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
        CpuParallel.Threads = threads;
        foreach (int count in new[] { 0, 1, 2, 3, 7, 64, 1000 })
        {
            for (int repeat = 0; repeat < 50; repeat++)
            {
                var job = new CountingJob { Hits = new int[count] };
                CpuParallel.For(count, ref job);
                Assert.That(job.Hits, Is.All.EqualTo(1), $"count {count}, repeat {repeat}");
            }
        }
    }

    private struct NestedJob : IParallelJob
    {
        public int[] Hits;
        public void Execute(int index, int worker)
        {
            var inner = new CountingJob { Hits = new int[4] };
            CpuParallel.For(4, ref inner);   // runs inline: the pool is busy with this very call
            Interlocked.Add(ref Hits[index], inner.Hits.Sum());
        }
    }

    [Test]
    public void NestedCallsRunInline()
    {
        CpuParallel.Threads = 3;
        var job = new NestedJob { Hits = new int[16] };
        CpuParallel.For(16, ref job);
        Assert.That(job.Hits, Is.All.EqualTo(4));
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
        CpuParallel.Threads = 3;
        var job = new ThrowingJob { Hits = new int[40] };
        var e = Assert.Throws<InvalidOperationException>(() => CpuParallel.For(40, ref job));
        Assert.That(e!.Message, Is.EqualTo("item 5 failed"));
        Assert.That(job.Hits, Is.All.EqualTo(1));

        // The pool is still usable.
        var ok = new CountingJob { Hits = new int[40] };
        CpuParallel.For(40, ref ok);
        Assert.That(ok.Hits, Is.All.EqualTo(1));
    }

    [Test]
    public void CallersOnSeveralThreadsAllComplete()
    {
        CpuParallel.Threads = 3;
        var failures = 0;
        var callers = Enumerable.Range(0, 3).Select(_ => new Thread(() =>
        {
            for (int i = 0; i < 200; i++)
            {
                var job = new CountingJob { Hits = new int[17] };
                CpuParallel.For(17, ref job);
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
        CpuParallel.Threads = 3;
        var job = new SumJob { Sums = new long[64] };
        for (int i = 0; i < 100; i++) CpuParallel.For(64, ref job);   // warm: pool started, code jitted
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) CpuParallel.For(64, ref job);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.Zero);
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
        CpuParallel.Threads = threads;
        var job = new ScratchJob(threads);   // a class job; an index >= threads would throw IndexOutOfRange
        for (int i = 0; i < 100; i++) CpuParallel.For(50, ref job);
        Assert.That(job.Collisions, Is.Zero);
        Assert.That(job.Hits, Is.EqualTo(5000));
        Assert.That(job.ItemsPerWorker.Sum(), Is.EqualTo(5000));
    }

    [Test]
    public void AJobTypedAsTheInterfaceWorks()
    {
        CpuParallel.Threads = 2;
        IParallelJob job = new ScratchJob(2);
        CpuParallel.For(30, ref job);
        Assert.That(((ScratchJob)job).Hits, Is.EqualTo(30));
    }

    [Test]
    public void ThreadsBelowOneIsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuParallel.Threads = 0);
}
