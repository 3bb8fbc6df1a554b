namespace VallE.Tests.Support;

/// <summary>
/// "Allocates nothing per call" checks. The runtime may allocate on the calling thread once, at a moment no warm-up can
/// pin down (tiered compilation promoting a method, a wait object created the first time the thread blocks on a loaded
/// machine: CI once saw 7280 bytes in a loop that allocates nothing). So the loop is measured up to
/// <paramref name="attempts"/> times and the least is returned: a per-call allocation shows in every attempt, a one-off
/// in one only.
/// </summary>
internal static class Allocations
{
    /// <summary>The fewest bytes the current thread allocated over <paramref name="calls"/> calls of <paramref name="action"/>, in up to <paramref name="attempts"/> measurements.</summary>
    public static long SteadyState(Action<int> action, int calls, int attempts = 3)
    {
        long least = long.MaxValue;
        for (int attempt = 0; attempt < attempts && least != 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < calls; i++) action(i);
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }
}
