using System.Diagnostics;
using VallE.Runtime.Codec;
using VallE.Runtime.Models;
using VallE.Runtime.Sampling;

namespace VallE.Benchmarking;

/// <summary>
/// Times our CPU engine on one request. The observer only takes a timestamp per AR step (step 0 = after the
/// prefill), which splits the AR time into prefill and steady decode without touching the engine's hot path.
/// </summary>
internal sealed class EngineRunner(ValleModel model)
{
    public (BenchMeasurement Timing, AudioCodes Codes, string StopReason) Run(long[] text, AudioCodes prompt, int enroll,
        int frames)
    {
        var request = new GenerationRequest
        {
            TextTokens = text,
            PromptCodes = prompt,
            EnrollTokens = enroll,
            PromptLanguage = "en",
            TextLanguage = "en",
            Sampling = new SamplingOptions { TopK = 1 },
            MaxFrames = frames,
        };
        var clock = new StepClock(frames + 2);
        long start = Stopwatch.GetTimestamp();
        clock.Start = start;
        GenerationResult result = model.Generate(request, clock);
        double totalMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        var timing = new BenchMeasurement("VallE.NET (CPU)", result.Frames, result.ArMilliseconds, clock.FirstStepMs,
            clock.DecodeMsPerStep, result.NarMilliseconds, totalMs);
        return (timing, result.Codes, result.StopReason);
    }

    private sealed class StepClock(int capacity) : IInferenceObserver
    {
        private readonly long[] _stamps = new long[capacity];
        private int _count;
        public long Start;

        public double FirstStepMs => _count > 0 ? Ms(Start, _stamps[0]) : 0;
        public double DecodeMsPerStep => _count > 1 ? Ms(_stamps[0], _stamps[_count - 1]) / (_count - 1) : 0;

        public void OnArLogits(int sequence, int step, ReadOnlySpan<float> logits)
        {
            if (_count < _stamps.Length) _stamps[_count++] = Stopwatch.GetTimestamp();
        }

        public void OnNarLogits(int sequence, int stage, int frames, ReadOnlySpan<float> logits) { }

        private static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;
    }
}
