using System.Diagnostics;
using VallE.Runtime.Codec;
using VallE.Runtime.Cpu;
using VallE.Runtime.Models.Ecker;
using VallE.Weights;

namespace VallE.Benchmarking;

/// <summary>
/// The ecker presets of `valle bench`: a random-weight e-c-k-e-r/vall-e <c>.sft</c> (made by
/// bench/reference/ecker_reference.py), our <see cref="EckerModel"/> (KV-cached AR, then the NAR levels) against
/// our PyTorch reference of upstream's algorithm (the full sequence re-run every AR step) and its KV-cached
/// variant; greedy, the same number of frames everywhere (the file's stop row never wins).
/// </summary>
internal static class EckerBench
{
    /// <summary>dim / heads / layers of each ecker preset.</summary>
    public static (int Dim, int Heads, int Layers) Size(string preset) => preset switch
    {
        "ecker-small" => (256, 4, 4),
        _ => (1024, 16, 12),
    };

    public static bool IsEckerPreset(string preset) => preset.StartsWith("ecker", StringComparison.Ordinal);

    public static void Run(BenchSettings settings, string preset, string checkpointPath, string? referenceDir, string? torchMissing,
        TextWriter output, IBenchLog log, CancellationToken cancel)
    {
        int frames = settings.Frames, threads = settings.Threads;
        var loadClock = Stopwatch.StartNew();
        using var checkpoint = ModelCheckpoint.Open(checkpointPath);
        EckerConfig c = checkpoint.Config.Ecker
            ?? throw new InvalidInputException($"{checkpointPath} is not an e-c-k-e-r/vall-e checkpoint");
        using var model = EckerModel.Load(checkpoint, threads, settings.WeightsDType);
        double loadSeconds = loadClock.Elapsed.TotalSeconds;

        var (text, prompt) = BenchSetup.RandomInputs(settings.TextTokens, settings.PromptFrames, c.PhonemeTokens, c.Levels,
            c.AudioTokens, settings.Seed);
        var request = new EckerRequest { PhonemeTokens = text, PromptCodes = prompt, Language = 0, MaxDuration = frames };
        log.Info($"warming up the engine ({preset}, {threads} threads)");
        TimeEngine(model, request);
        cancel.ThrowIfCancellationRequested();
        log.Info($"engine: {frames} frames");
        var (engineTiming, engineCodes) = TimeEngine(model, request);
        if (engineTiming.Frames != frames)
            log.Warn($"the engine stopped after {engineTiming.Frames} of {frames} frames; the references still run {frames}");

        string? skipped = settings.Torch == TorchReferences.None ? "--torch none" : torchMissing;
        var (references, firstDifferent) = skipped is not null ? ([], [])
            : BenchRun.RunReferences(settings, new TorchReferenceRunner(settings.Python, referenceDir!, threads, "ecker_reference.py"),
                checkpointPath, text, prompt, engineCodes, [], log, cancel);

        double bandwidth = settings.BandwidthGBps ?? BenchRun.MeasureBandwidth(log, threads);
        int n = settings.TextTokens + settings.PromptFrames + 4 + (c.Langs > 0 ? 2 : 0) + frames;
        var floor = new DecodeFloor(ArStepWeightBytes(c, settings.WeightsDType), 2L * c.Layers * n * c.Dim * sizeof(float), bandwidth);
        var report = new BenchReport
        {
            Preset = preset,
            Checkpoint = checkpointPath,
            Config = checkpoint.Config,
            WeightsDType = BenchRun.DTypeName(settings.WeightsDType),
            Threads = threads,
            TextTokens = settings.TextTokens,
            PromptFrames = settings.PromptFrames,
            Frames = frames,
            Machine = BenchRun.DescribeMachine(),
            LoadSeconds = loadSeconds,
            Engine = engineTiming,
            References = references,
            FirstDifferentFrame = firstDifferent,
            Floor = floor,
            TorchSkipped = skipped,
        };
        if (settings.Json) report.WriteJson(output);
        else report.WriteTable(output, settings.RichTable);
    }

    /// <summary>
    /// Bytes one AR decode step reads: per block q|k|v, o, gate|up, down (no biases) and two RMSNorm vectors, the
    /// final norm, and the <c>AR:0:0</c> head (1025 rows with bias, always float32).
    /// </summary>
    internal static long ArStepWeightBytes(EckerConfig c, WeightsDType dtype)
    {
        long Linear(long outF, long inF) => dtype switch
        {
            WeightsDType.BF16 => outF * inF * 2,
            WeightsDType.Int8 => outF * inF + outF * 4,
            _ => outF * inF * 4,
        };
        long d = c.Dim, ff = c.FeedForward;
        long layer = Linear(3 * d, d) + Linear(d, d) + Linear(2 * ff, d) + Linear(d, ff) + 2 * d * 4;
        return c.Layers * layer + d * 4 + (c.AudioTokens + 1) * (d + 1) * 4;
    }

    private static (BenchMeasurement Timing, AudioCodes Codes) TimeEngine(EckerModel model, EckerRequest request)
    {
        var clock = new StepClock(request.MaxDuration + 2);
        long start = Stopwatch.GetTimestamp();
        clock.Start = start;
        int[] level0 = model.GenerateAr(request, clock);
        double arMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        long narStart = Stopwatch.GetTimestamp();
        AudioCodes codes = model.GenerateNar(request, level0);
        double narMs = Stopwatch.GetElapsedTime(narStart).TotalMilliseconds;
        double totalMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        return (new BenchMeasurement("VallE.NET (CPU)", level0.Length, arMs, clock.FirstStepMs, clock.DecodeMsPerStep, narMs, totalMs), codes);
    }

    /// <summary>A timestamp per AR logit row: row 0 ends the prefill, the rest are decode steps.</summary>
    private sealed class StepClock(int capacity) : IEckerObserver
    {
        private readonly long[] _stamps = new long[capacity];
        private int _count;
        public long Start;

        public double FirstStepMs => _count > 0 ? Ms(Start, _stamps[0]) : 0;
        public double DecodeMsPerStep => _count > 1 ? Ms(_stamps[0], _stamps[_count - 1]) / (_count - 1) : 0;

        public void Inputs(EckerPass pass, int index, ReadOnlySpan<float> embeddings, ReadOnlySpan<int> positions) { }

        public void Logits(EckerPass pass, int index, ReadOnlySpan<float> logits, int rows, int vocab)
        {
            if (pass == EckerPass.Ar && _count < _stamps.Length) _stamps[_count++] = Stopwatch.GetTimestamp();
        }

        private static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;
    }
}
