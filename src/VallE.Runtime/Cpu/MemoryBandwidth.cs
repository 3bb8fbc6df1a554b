using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;

namespace VallE.Runtime.Cpu;

/// <summary>
/// Measures sustained DRAM read bandwidth the way a decode step reads weights: every thread of a
/// <see cref="CpuBackend"/> streams its share of a buffer far larger than the last-level cache. Weight bytes divided by this is the
/// floor of a memory-bound decode step, which the benchmarks report kernels against.
/// </summary>
public static unsafe class MemoryBandwidth
{
    /// <summary>Default buffer: 512 MiB, well past any current desktop/server L3 (32-384 MiB).</summary>
    public const long DefaultBytes = 512L << 20;

    /// <summary>Best read bandwidth, in GB/s (10⁹ bytes), over <paramref name="runs"/> passes on <paramref name="backend"/>'s threads.</summary>
    public static double MeasureGBps(CpuBackend backend, long bytes = DefaultBytes, int runs = 5)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 1L << 20);
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        nuint length = (nuint)(bytes & ~4095L);
        byte* buffer = (byte*)NativeMemory.AlignedAlloc(length, 4096);
        try
        {
            // Non-zero fill: untouched pages would all map the kernel's shared zero page and read from cache.
            NativeMemory.Fill(buffer, length, 1);
            var job = new ReadJob
            {
                Buffer = (float*)buffer,
                FloatsPerChunk = (long)length / sizeof(float) / ChunkCount(backend),
                Sums = new float[ChunkCount(backend)],
            };
            backend.For(job.Sums.Length, ref job);   // warm: threads running, pages mapped into the TLB once
            double best = 0;
            for (int run = 0; run < runs; run++)
            {
                long start = Stopwatch.GetTimestamp();
                backend.For(job.Sums.Length, ref job);
                double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                best = Math.Max(best, job.FloatsPerChunk * job.Sums.Length * sizeof(float) / seconds / 1e9);
            }
            return best;
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    private static int ChunkCount(CpuBackend backend) => backend.Threads * 8;

    private struct ReadJob : IParallelJob
    {
        public float* Buffer;
        public long FloatsPerChunk;
        public float[] Sums;

        public void Execute(int index, int worker)
        {
            // Four independent accumulators so the loop is bound by loads, not by the add latency.
            int width = Vector<float>.Count;
            float* p = Buffer + index * FloatsPerChunk, end = p + FloatsPerChunk - 4 * width;
            Vector<float> a = default, b = default, c = default, d = default;
            for (; p <= end; p += 4 * width)
            {
                a += *(Vector<float>*)p;
                b += *(Vector<float>*)(p + width);
                c += *(Vector<float>*)(p + 2 * width);
                d += *(Vector<float>*)(p + 3 * width);
            }
            Sums[index] = Vector.Sum(a + b + c + d);   // kept, so the reads cannot be optimised away
        }
    }
}
