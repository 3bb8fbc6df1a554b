namespace VallE.Runtime.Cpu;

/// <summary>
/// The CPU backend's parallel-for: <c>For(count, ref job)</c> runs <c>job.Execute(i, worker)</c> for every i in
/// [0, count) on a pool of persistent worker threads plus the calling thread, and returns when all are done.
/// A call allocates nothing and costs around a microsecond (workers spin briefly between calls before sleeping),
/// so it can be used hundreds of times per generated token. Jobs are structs passed by reference or reused
/// class instances (the job type may be an interface type too). Indices are handed out dynamically (one atomic
/// per index), so give each index a chunk of work worth at least a few microseconds.
/// Nested calls (from inside a job) and calls racing with another thread's call run inline on the caller.
/// </summary>
public static class CpuParallel
{
    private static readonly Lock PoolLock = new();
    private static WorkerPool? _pool;
    private static int _threads = Environment.ProcessorCount;

    /// <summary>Threads used by <see cref="For{TJob}(int, ref TJob)"/>, the caller included (set by <c>--threads</c>).</summary>
    public static int Threads
    {
        get => _threads;
        set
        {
            if (value < 1)
                throw new ArgumentOutOfRangeException(nameof(value), value, "threads must be at least 1");
            lock (PoolLock)
            {
                if (value == _threads) return;
                _threads = value;
                // The old pool's workers exit once they see it is retired; the next For builds a pool of the new size.
                _pool?.Retire();
                _pool = null;
            }
        }
    }

    /// <summary>Runs <c>job.Execute(i, worker)</c> for i in [0, count). Blocks until all indices have completed.</summary>
    public static void For<TJob>(int count, ref TJob job) where TJob : IParallelJob
    {
        if (count <= 0) return;
        if (count == 1 || _threads == 1 || WorkerPool.IsInsideJob)
        {
            for (int i = 0; i < count; i++) job.Execute(i, 0);
            return;
        }
        var pool = _pool ?? CreatePool();
        if (!pool.TryRun(count, ref job))
            for (int i = 0; i < count; i++) job.Execute(i, 0);   // another thread is using the pool: do it here
    }

    private static WorkerPool CreatePool()
    {
        lock (PoolLock)
            return _pool ??= new WorkerPool(_threads - 1);
    }
}
