namespace VallE.Benchmarking;

/// <summary>
/// One implementation's timing of one generation: the same checkpoint, inputs and number of frames for every row.
/// <c>FirstStepMs</c> is the prefill (KV-cached runs) or the first full pass (upstream's loop);
/// <c>DecodeMsPerStep</c> averages the steps after it; <c>DecodeMsMedian</c> is their median (engine rows only: the
/// references report a mean).
/// </summary>
internal sealed record BenchMeasurement(string Name, int Frames, double ArMs, double FirstStepMs, double DecodeMsPerStep,
    double NarMs, double TotalMs)
{
    public double? DecodeMsMedian { get; init; }
    public double ArMsPerToken => Frames > 0 ? ArMs / Frames : 0;
    public double AudioSeconds => Frames / (double)VallE.Runtime.Codec.EncodecContract.FramesPerSecond;
    /// <summary>Real-time factor: seconds of compute per second of audio (below 1 is faster than real time).</summary>
    public double RealTimeFactor => AudioSeconds > 0 ? TotalMs / 1000.0 / AudioSeconds : 0;
}

/// <summary>Where a memory-bound AR decode step cannot go below: weight bytes read per step / DRAM bandwidth.</summary>
internal sealed record DecodeFloor(long WeightBytesPerStep, long KvBytesPerStepAtEnd, double BandwidthGBps)
{
    public double FloorMs => WeightBytesPerStep / (BandwidthGBps * 1e9) * 1e3;
}
