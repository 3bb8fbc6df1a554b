using System.Diagnostics;
using System.Text.Json;
using VallE.Runtime.Codec;
using VallE.Runtime.Cpu;
using VallE.Runtime.Models.Ecker;
using VallE.Weights;
using VallE.Weights.NumPy;

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

    /// <summary><see cref="BenchSettings.Mode"/> of the NAR-len bench.</summary>
    public const string NarLenMode = "nar-len";

    /// <summary>Demasking steps of the NAR-len bench: upstream's default <c>max_steps</c>.</summary>
    public const int DemaskSteps = 25;

    /// <summary>Timed NAR-len runs after the warm-up; each stage reports its median (the machine may be shared).</summary>
    private const int NarLenRuns = 3;

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
        if (settings.Mode == NarLenMode)
        {
            RunNarLen(settings, preset, checkpointPath, model, c, loadSeconds, referenceDir, torchMissing, output, log, cancel);
            return;
        }

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
    /// NAR-len: the len task (all 10 digit steps on the bench's file, whose stop digit never wins),
    /// <see cref="DemaskSteps"/> demasking steps at exactly <see cref="BenchSettings.Frames"/> frames (the random
    /// model's predicted length means nothing), then NAR levels 1..7; greedy. A warm-up, then
    /// <see cref="NarLenRuns"/> timed runs; the medians are printed. Then, unless <c>--torch none</c> or torch is
    /// missing, one run of our PyTorch reference of upstream's algorithm (<c>ecker_reference.py run --mode nar-len</c>:
    /// full passes, the null pass separate) on the same inputs, its codes compared with the engine's.
    /// </summary>
    private static void RunNarLen(BenchSettings settings, string preset, string checkpointPath, EckerModel model, EckerConfig c,
        double loadSeconds, string? referenceDir, string? torchMissing, TextWriter output, IBenchLog log, CancellationToken cancel)
    {
        if (!c.Has("len") || c.Classifier("NAR:0:0") < 0)
            throw new InvalidInputException("--mode nar-len needs an ar+nar-len model (capability len and a NAR:0:0 head)");
        int frames = settings.Frames;
        var (text, prompt) = BenchSetup.RandomInputs(settings.TextTokens, settings.PromptFrames, c.PhonemeTokens, c.Levels,
            c.AudioTokens, settings.Seed);
        var request = new EckerRequest { PhonemeTokens = text, PromptCodes = prompt, Language = 0, MaxDuration = frames };
        var options = new EckerDemaskOptions { Length = frames, Steps = DemaskSteps };
        log.Info($"warming up the engine ({preset} nar-len, {settings.Threads} threads)");
        TimeNarLen(model, request, options, cancel);
        var runs = new List<NarLenTiming>();
        AudioCodes engineCodes = default!;
        for (int i = 0; i < NarLenRuns; i++)
        {
            log.Info($"engine: nar-len run {i + 1} of {NarLenRuns}");
            var (timing, codes) = TimeNarLen(model, request, options, cancel);
            runs.Add(timing);
            engineCodes = codes;
        }
        string? skipped = settings.Torch == TorchReferences.None ? "--torch none" : torchMissing;
        JsonElement? torch = null;
        bool? codesEqual = null;
        if (skipped is null)
        {
            string inputs = Path.Combine(Path.GetTempPath(), "valle-bench-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(inputs);
            try
            {
                BenchSetup.WriteInputs(inputs, text, prompt);
                string codesPath = Path.Combine(inputs, "torch-nar-len-codes.npy");
                string I(int v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);
                log.Info("PyTorch reference (upstream's NAR-len algorithm): one run");
                var (code, stdout, stderr) = PythonProcess.Run(settings.Python,
                [
                    Path.Combine(referenceDir!, "ecker_reference.py"), "--threads", I(settings.Threads), "run",
                    "--checkpoint", checkpointPath,
                    "--text-tokens", Path.Combine(inputs, "text_tokens.npy"),
                    "--prompt-codes", Path.Combine(inputs, "prompt_codes.npy"),
                    "--frames", I(frames), "--mode", NarLenMode, "--demask-steps", I(DemaskSteps), "--out", codesPath,
                ], settings.Threads, cancel);
                if (code != 0)
                    throw new InvalidInputException($"PyTorch reference ecker_reference.py (nar-len) failed: {PythonProcess.LastLine(stderr)}");
                torch = JsonDocument.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last()).RootElement.Clone();
                var array = Npy.Read(codesPath);
                codesEqual = array.ToInt64().AsSpan().SequenceEqual(engineCodes.Span);
            }
            finally
            {
                try { Directory.Delete(inputs, recursive: true); } catch (IOException) { }
            }
        }
        double Median(Func<NarLenTiming, double> f) => runs.Select(f).Order().ElementAt(runs.Count / 2);
        var m = new NarLenTiming(runs[0].Digits, Median(r => r.LenMs), Median(r => r.LenFirstMs), Median(r => r.LenMsPerDigit),
            Median(r => r.DemaskMs), Median(r => r.NarMs), Median(r => r.TotalMs));
        string machine = BenchRun.DescribeMachine();
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        if (settings.Json)
        {
            output.WriteLine(System.Text.Json.JsonSerializer.Serialize(new
            {
                preset, mode = NarLenMode, dim = c.Dim, heads = c.Heads, layers = c.Layers, threads = settings.Threads,
                text_tokens = settings.TextTokens, prompt_frames = settings.PromptFrames, frames, demask_steps = DemaskSteps,
                runs = runs.Count, len_digits = m.Digits, len_ms = m.LenMs, len_prefill_ms = m.LenFirstMs,
                len_ms_per_digit = m.LenMsPerDigit, demask_ms = m.DemaskMs, demask_ms_per_step = m.DemaskMs / DemaskSteps,
                nar_ms = m.NarMs, total_ms = m.TotalMs, machine, load_seconds = loadSeconds,
                torch_upstream = torch, codes_equal_torch = codesEqual, torch_skipped = skipped,
            }));
            return;
        }
        output.WriteLine(string.Create(inv, $"{preset} nar-len: d={c.Dim} heads={c.Heads} layers={c.Layers}, {BenchRun.DTypeName(settings.WeightsDType)}, " +
            $"{settings.Threads} threads; text {settings.TextTokens} tokens, prompt {settings.PromptFrames} frames, {frames} frames, " +
            $"{DemaskSteps} demasking steps; median of {runs.Count} runs"));
        output.WriteLine(string.Create(inv, $"len task      {m.LenMs,9:F1} ms  ({m.Digits} digits: first {m.LenFirstMs:F1} ms, then {m.LenMsPerDigit:F2} ms/digit)"));
        output.WriteLine(string.Create(inv, $"demasking     {m.DemaskMs,9:F1} ms  ({m.DemaskMs / DemaskSteps:F2} ms/step, conditional + null pass)"));
        output.WriteLine(string.Create(inv, $"NAR levels    {m.NarMs,9:F1} ms"));
        output.WriteLine(string.Create(inv, $"total         {m.TotalMs,9:F1} ms  (RTF {m.TotalMs / 1000 / (frames / 75.0):F3})"));
        if (torch is { } r)
        {
            double D(string name) => r.GetProperty(name).GetDouble();
            output.WriteLine(string.Create(inv, $"PyTorch upstream (1 run): len task {D("len_ms"):F1} ms ({D("len_ms_per_digit"):F2} ms/digit), " +
                $"demasking {D("demask_ms"):F1} ms ({D("demask_ms_per_step"):F2} ms/step), NAR {D("nar_ms"):F1} ms, total {D("total_ms"):F1} ms " +
                $"= {D("total_ms") / m.TotalMs:F1}x the engine"));
            output.WriteLine($"codes vs PyTorch upstream: {(codesEqual == true ? "identical" : "DIFFERENT")}");
        }
        else output.WriteLine($"PyTorch reference skipped: {skipped}");
        output.WriteLine(string.Create(inv, $"machine: {machine}; model load {loadSeconds:F2} s (not in the totals)"));
    }

    private readonly record struct NarLenTiming(int Digits, double LenMs, double LenFirstMs, double LenMsPerDigit, double DemaskMs,
        double NarMs, double TotalMs);

    private static (NarLenTiming Timing, AudioCodes Codes) TimeNarLen(EckerModel model, EckerRequest request, EckerDemaskOptions options,
        CancellationToken cancel)
    {
        var clock = new LenClock();
        long start = Stopwatch.GetTimestamp();
        clock.Start = start;
        model.PredictLength(request, clock, cancel);
        double lenMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        long demaskStart = Stopwatch.GetTimestamp();
        int[] level0 = model.Demask(request, options.Length!.Value, options, null, cancel);
        double demaskMs = Stopwatch.GetElapsedTime(demaskStart).TotalMilliseconds;
        long narStart = Stopwatch.GetTimestamp();
        AudioCodes codes = model.GenerateNar(request, level0, null, cancel);
        double narMs = Stopwatch.GetElapsedTime(narStart).TotalMilliseconds;
        return (new NarLenTiming(clock.Count, lenMs, clock.FirstMs, clock.MsPerDigit, demaskMs, narMs, Stopwatch.GetElapsedTime(start).TotalMilliseconds),
            codes);
    }

    /// <summary>A timestamp per len logit row: row 0 is the first pass, the rest one digit each.</summary>
    private sealed class LenClock : IEckerObserver
    {
        private readonly long[] _stamps = new long[16];
        public int Count;
        public long Start;

        public double FirstMs => Count > 0 ? Ms(Start, _stamps[0]) : 0;
        public double MsPerDigit => Count > 1 ? Ms(_stamps[0], _stamps[Count - 1]) / (Count - 1) : 0;

        public void Inputs(EckerPass pass, int index, ReadOnlySpan<float> embeddings, ReadOnlySpan<int> positions) { }

        public void Logits(EckerPass pass, int index, ReadOnlySpan<float> logits, int rows, int vocab)
        {
            if (pass == EckerPass.Len && Count < _stamps.Length) _stamps[Count++] = Stopwatch.GetTimestamp();
        }

        private static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;
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
        long start = Stopwatch.GetTimestamp();
        var clock = new StepClock(new StepTimes(request.MaxDuration + 2, start));
        int[] level0 = model.GenerateAr(request, clock);
        double arMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        long narStart = Stopwatch.GetTimestamp();
        AudioCodes codes = model.GenerateNar(request, level0);
        double narMs = Stopwatch.GetElapsedTime(narStart).TotalMilliseconds;
        double totalMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        var steps = clock.Times;
        return (new BenchMeasurement("VallE.NET (CPU)", level0.Length, arMs, steps.FirstStepMs, steps.DecodeMsPerStep, narMs, totalMs)
            { DecodeMsMedian = steps.DecodeMsMedian }, codes);
    }

    /// <summary>Stamps every AR logit row (<see cref="StepTimes"/>).</summary>
    private sealed class StepClock(StepTimes times) : IEckerObserver
    {
        public StepTimes Times => times;

        public void Inputs(EckerPass pass, int index, ReadOnlySpan<float> embeddings, ReadOnlySpan<int> positions) { }

        public void Logits(EckerPass pass, int index, ReadOnlySpan<float> logits, int rows, int vocab)
        {
            if (pass == EckerPass.Ar) times.Stamp();
        }
    }
}
