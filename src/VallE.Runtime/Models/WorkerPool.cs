namespace VallE.Runtime.Models;

/// <summary>A unit of parallel work: item <c>0..count-1</c>, run by worker <c>0..Workers-1</c> (for per-worker scratch).</summary>
internal interface IParallelJob
{
    void Run(int item, int worker);
}

/// <summary>
/// Splits <c>count</c> items into one contiguous chunk per worker. With one worker it is a plain loop on the
/// calling thread (the deterministic, allocation-free path tests use).
/// </summary>
internal sealed class WorkerPool
{
    private readonly Action<int> _chunkBody;
    private readonly ParallelOptions _options;
    private IParallelJob? _job;
    private int _count;

    public int Workers { get; }

    public WorkerPool(int workers)
    {
        Workers = Math.Max(1, workers);
        _options = new ParallelOptions { MaxDegreeOfParallelism = Workers };
        _chunkBody = RunChunk; // cached once: no delegate allocation per call
    }

    public void For(int count, IParallelJob job)
    {
        if (Workers == 1 || count < 2)
        {
            for (int i = 0; i < count; i++) job.Run(i, 0);
            return;
        }
        _job = job;
        _count = count;
        Parallel.For(0, Math.Min(Workers, count), _options, _chunkBody);
        _job = null;
    }

    private void RunChunk(int worker)
    {
        int chunks = Math.Min(Workers, _count);
        int begin = (int)((long)_count * worker / chunks), end = (int)((long)_count * (worker + 1) / chunks);
        for (int i = begin; i < end; i++) _job!.Run(i, worker);
    }
}
