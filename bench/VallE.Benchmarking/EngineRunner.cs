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
        long start = Stopwatch.GetTimestamp();
        var clock = new StepClock(new StepTimes(frames + 2, start));
        GenerationResult result = model.Generate(request, clock);
        double totalMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        var steps = clock.Times;
        var timing = new BenchMeasurement("VallE.NET (CPU)", result.Frames, result.ArMilliseconds, steps.FirstStepMs,
            steps.DecodeMsPerStep, result.NarMilliseconds, totalMs) { DecodeMsMedian = steps.DecodeMsMedian };
        return (timing, result.Codes, result.StopReason);
    }

    private sealed class StepClock(StepTimes times) : IInferenceObserver
    {
        public StepTimes Times => times;
        public void OnArLogits(int sequence, int step, ReadOnlySpan<float> logits) => times.Stamp();
        public void OnNarLogits(int sequence, int stage, int frames, ReadOnlySpan<float> logits) { }
    }
}
