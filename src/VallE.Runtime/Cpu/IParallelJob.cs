namespace VallE.Runtime.Cpu;

/// <summary>
/// One parallel loop body for <see cref="CpuBackend.For{TJob}(int, ref TJob)"/>. Implement it on a struct holding
/// the call's arguments (pointers, arrays, offsets) — passed by reference, so dispatching allocates nothing — or on
/// a class created once and reused. <see cref="Execute"/> runs concurrently on several threads, once per index.
/// </summary>
public interface IParallelJob
{
    /// <param name="index">The item, 0..count-1.</param>
    /// <param name="worker">Which thread runs it, 0..<see cref="CpuBackend.Threads"/>-1 (0 = the calling thread):
    /// unique among the threads running this call, so it can index per-worker scratch buffers.</param>
    void Execute(int index, int worker);
}
