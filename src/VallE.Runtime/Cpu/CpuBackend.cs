namespace VallE.Runtime.Cpu;

/// <summary>
/// One instance of the CPU backend: its worker pool (a fixed number of threads), the instruction set its kernels
/// use and its attention settings. A <see cref="Models.ValleModel"/> owns one, built from its
/// <see cref="Models.EngineOptions"/>, so models with different settings can run side by side in one process
/// without touching each other; nothing here is process-wide except what the hardware offers
/// (<see cref="BestIsa"/>).
/// <para>
/// <see cref="For{TJob}(int, ref TJob)"/> runs <c>job.Execute(i, worker)</c> for every i in [0, count) on the
/// backend's persistent worker threads plus the calling thread, and returns when all are done. A call allocates
/// nothing and costs around a microsecond (workers spin briefly between calls before sleeping), so it can be used
/// hundreds of times per generated token. Jobs are structs passed by reference or reused class instances (the job
/// type may be an interface type too). Indices are handed out dynamically (one atomic per index), so give each
/// index a chunk of work worth at least a few microseconds. Nested calls (from inside a job, on this or any other
/// backend) and calls racing with another thread's call on the same backend run inline on the caller.
/// </para>
/// Dispose retires the workers (after the job in flight, if any); a finalizer does the same for a backend that is
/// dropped without being disposed, so its threads do not outlive it.
/// </summary>
public sealed class CpuBackend : IDisposable
{
    private readonly Lock _poolLock = new();
    private WorkerPool? _pool;
    private volatile bool _disposed;

    /// <param name="threads">Threads a parallel loop uses, the caller included; 0 = <see cref="Environment.ProcessorCount"/>.</param>
    /// <param name="isa">Instruction set of the kernels; null = the best this CPU has (<see cref="BestIsa"/>). Tests and
    /// benchmarks lower it to run the AVX2 or scalar paths; it cannot be raised above <see cref="BestIsa"/>.</param>
    /// <param name="blockedAttention">Attention with blocked register kernels (<see cref="BlockAttention"/>)
    /// where the ISA allows; false = the per-row path everywhere (tests and benchmarks compare the two).</param>
    public CpuBackend(int threads = 0, KernelIsa? isa = null, bool blockedAttention = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        KernelIsa chosen = isa ?? BestIsa;
        if (!Enum.IsDefined(chosen)) throw new ArgumentOutOfRangeException(nameof(isa), chosen, "unknown kernel instruction set");
        if (chosen > BestIsa) throw new PlatformNotSupportedException($"{chosen} is not available on this CPU (best: {BestIsa})");
        Threads = threads > 0 ? threads : Environment.ProcessorCount;
        Isa = chosen;
        BlockedAttention = blockedAttention;
    }

    ~CpuBackend() => _pool?.Retire();

    /// <summary>The best instruction set this CPU offers (what a backend uses unless told otherwise).</summary>
    public static KernelIsa BestIsa => CpuKernels.Best;

    /// <summary>Threads used by <see cref="For{TJob}(int, ref TJob)"/>, the caller included; fixed at construction.</summary>
    public int Threads { get; }

    /// <summary>The instruction set this backend's kernels run with.</summary>
    public KernelIsa Isa { get; }

    /// <summary>Whether attention may use the blocked kernels (they also need AVX2 and an even head size).</summary>
    public bool BlockedAttention { get; }

    /// <summary>Runs <c>job.Execute(i, worker)</c> for i in [0, count). Blocks until all indices have completed.</summary>
    /// <exception cref="ObjectDisposedException">the backend was disposed.</exception>
    public void For<TJob>(int count, ref TJob job) where TJob : IParallelJob
    {
        if (count <= 0) return;
        if (count == 1 || Threads == 1 || WorkerPool.IsInsideJob)
        {
            for (int i = 0; i < count; i++) job.Execute(i, 0);
            return;
        }
        var pool = _pool ?? CreatePool();
        if (!pool.TryRun(count, ref job))
            for (int i = 0; i < count; i++) job.Execute(i, 0);   // another thread is using the pool: do it here
    }

    private WorkerPool CreatePool()
    {
        lock (_poolLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _pool ??= new WorkerPool(Threads - 1);
        }
    }

    /// <summary>Retires the worker threads; later parallel loops throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        lock (_poolLock)
        {
            if (_disposed) return;
            _disposed = true;
            _pool?.Retire();
            _pool = null;   // a later For finds no pool and throws (one racing with Dispose finishes on its caller)
        }
        GC.SuppressFinalize(this);
    }

    public override string ToString() =>
        $"CpuBackend({Threads} threads, {Isa}, blocked attention {(BlockedAttention ? "on" : "off")})";
}
