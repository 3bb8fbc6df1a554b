namespace VallE.Runtime.Cpu;

/// <summary>
/// One unit of work for <see cref="CpuParallel.For{TJob}(int, ref TJob)"/>. Implement it on a struct that holds the
/// call's arguments (spans cannot be fields, so hold arrays/offsets or pointers): the struct is passed by reference,
/// so dispatching it allocates nothing. <see cref="Execute"/> runs concurrently on several threads, once per index.
/// </summary>
public interface IParallelJob
{
    void Execute(int index);
}
