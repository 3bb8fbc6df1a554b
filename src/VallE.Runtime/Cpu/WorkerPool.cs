using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace VallE.Runtime.Cpu;

/// <summary>
/// Persistent worker threads behind <see cref="CpuBackend"/> (one pool per backend). One dispatcher at a time publishes a job; workers and
/// the dispatcher claim its indices from one atomic ticket until none are left.
/// <para>
/// The ticket packs <c>(generation &lt;&lt; 32) | remaining</c>. A worker reads the ticket, then the job fields, then
/// claims an index with a compare-exchange on the ticket it read: success proves the ticket did not move in between,
/// so the job cannot have finished (its index was still unclaimed) and the fields it read belong to that generation.
/// That is what lets the job live on the dispatcher's stack with no allocation and no per-call handshake.
/// </para>
/// </summary>
internal sealed unsafe class WorkerPool
{
    /// <summary>How long an idle worker polls for the next job before it blocks; calls during a decode step come
    /// microseconds apart, and waking a blocked thread costs tens of microseconds.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 10_000;   // 100 µs

    [ThreadStatic] private static bool t_insideJob;

    /// <summary>True on a worker thread, and on a dispatcher while it runs items: nested calls then run inline.</summary>
    internal static bool IsInsideJob => t_insideJob;

    private readonly Lock _dispatchLock = new();
    private readonly object _sleepGate = new();
    private readonly int _workerCount;

    // The published job; written only by the dispatcher, before the ticket that publishes it.
    private void* _job;
    private delegate*<void*, int, int, void> _invoke;

    private long _ticket;
    private int _completed;
    private int _sleepers;
    private volatile bool _retired;
    private ExceptionDispatchInfo? _failure;

    internal WorkerPool(int workerCount)
    {
        _workerCount = workerCount;
        for (int i = 0; i < workerCount; i++)
        {
            int worker = i + 1;
            var thread = new Thread(() => WorkerLoop(worker)) { IsBackground = true, Name = $"valle-cpu-{worker}" };
            thread.Start();
        }
    }

    internal int WorkerCount => _workerCount;

    /// <summary>Runs the job unless another thread is dispatching on this pool (then returns false at once).</summary>
    internal bool TryRun<TJob>(int count, ref TJob job) where TJob : IParallelJob
    {
        if (!_dispatchLock.TryEnter()) return false;
        try
        {
            // A stack copy: workers reach the job through a raw pointer, which must not move during a GC (a ref into
            // a heap object could; a stack slot does not, and the GC still sees the references in it). Copied back
            // afterwards so the call keeps by-reference semantics.
            TJob local = job;
            _job = Unsafe.AsPointer(ref local);
            _invoke = &JobInvoker<TJob>.Invoke;
            _completed = 0;
            _failure = null;
            long generation = (Volatile.Read(ref _ticket) >> 32) + 1;
            Interlocked.Exchange(ref _ticket, (generation << 32) | (uint)count);   // publish (full fence)
            if (Volatile.Read(ref _sleepers) > 0)
                lock (_sleepGate) Monitor.PulseAll(_sleepGate);

            t_insideJob = true;
            try { RunItems(generation, worker: 0); }
            finally { t_insideJob = false; }

            // Indices claimed by workers may still be running: the job lives in this frame, so wait for every one.
            var spin = new SpinWait();
            while (Volatile.Read(ref _completed) < count)
                spin.SpinOnce(sleep1Threshold: -1);

            job = local;
            _failure?.Throw();
            return true;
        }
        finally
        {
            _job = null;
            _dispatchLock.Exit();
        }
    }

    /// <summary>Lets the workers exit (after the job in flight, if any).</summary>
    internal void Retire()
    {
        _retired = true;
        lock (_sleepGate) Monitor.PulseAll(_sleepGate);
    }

    private void RunItems(long generation, int worker)
    {
        while (true)
        {
            long ticket = Volatile.Read(ref _ticket);
            int remaining = (int)(uint)ticket;
            if (ticket >> 32 != generation || remaining == 0) return;
            void* job = _job;
            var invoke = _invoke;
            if (Interlocked.CompareExchange(ref _ticket, ticket - 1, ticket) != ticket) continue;
            try { invoke(job, remaining - 1, worker); }
            catch (Exception e) { Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null); }
            finally { Interlocked.Increment(ref _completed); }
        }
    }

    private void WorkerLoop(int worker)
    {
        t_insideJob = true;
        long seen = 0;
        while (true)
        {
            long generation = WaitForNextGeneration(seen);
            if (generation < 0) return;
            seen = generation;
            RunItems(generation, worker);
        }
    }

    private long WaitForNextGeneration(long seen)
    {
        long spinUntil = Stopwatch.GetTimestamp() + SpinTicks;
        for (int polls = 1; ; polls++)
        {
            long generation = Volatile.Read(ref _ticket) >> 32;
            if (generation != seen) return generation;
            if (_retired) return -1;
            if (polls % 64 != 0 || Stopwatch.GetTimestamp() < spinUntil)
            {
                Thread.SpinWait(4);
                continue;
            }
            lock (_sleepGate)
            {
                // Announce before the last check; the dispatcher publishes before it reads _sleepers (both are full
                // fences), so either we see the new generation here or it sees us and pulses.
                Interlocked.Increment(ref _sleepers);
                try
                {
                    while (Volatile.Read(ref _ticket) >> 32 == seen && !_retired)
                        Monitor.Wait(_sleepGate);
                }
                finally { Interlocked.Decrement(ref _sleepers); }
            }
            spinUntil = Stopwatch.GetTimestamp() + SpinTicks;
        }
    }

    private static class JobInvoker<TJob> where TJob : IParallelJob
    {
        public static void Invoke(void* job, int index, int worker) => Unsafe.AsRef<TJob>(job).Execute(index, worker);
    }
}
