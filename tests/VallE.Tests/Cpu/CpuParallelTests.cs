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
        public void Execute(int index) => Interlocked.Increment(ref Hits[index]);
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
        public void Execute(int index)
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
        public void Execute(int index)
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
        public void Execute(int index) => Sums[index] = index;
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

    [Test]
    public void ThreadsBelowOneIsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuParallel.Threads = 0);
}
