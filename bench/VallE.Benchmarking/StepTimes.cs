using System.Diagnostics;

namespace VallE.Benchmarking;

/// <summary>
/// A timestamp per AR logit row (row 0 ends the prefill, the rest are decode steps), taken by an engine observer
/// without touching the hot path. The mean step is what the whole AR cost; the median is the steady step, which
/// one background tier-up compile or page-cache hiccup landing mid-run does not move.
/// </summary>
internal sealed class StepTimes(int capacity, long start)
{
    private readonly long[] _stamps = new long[capacity];
    private int _count;

    public void Stamp()
    {
        if (_count < _stamps.Length) _stamps[_count++] = Stopwatch.GetTimestamp();
    }

    public double FirstStepMs => _count > 0 ? Ms(start, _stamps[0]) : 0;
    public double DecodeMsPerStep => _count > 1 ? Ms(_stamps[0], _stamps[_count - 1]) / (_count - 1) : 0;

    public double DecodeMsMedian
    {
        get
        {
            if (_count < 2) return 0;
            var steps = new double[_count - 1];
            for (int i = 1; i < _count; i++) steps[i - 1] = Ms(_stamps[i - 1], _stamps[i]);
            Array.Sort(steps);
            int mid = steps.Length / 2;
            return steps.Length % 2 == 1 ? steps[mid] : (steps[mid - 1] + steps[mid]) / 2;
        }
    }

    private static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;
}
