using System.Diagnostics;
using System.Globalization;
using VallE.Runtime.Codec;
using VallE.Runtime.Cpu;
using VallE.Runtime.Models;
using VallE.Weights;

namespace VallE.Benchmarking;

/// <summary>
/// Times our CPU engine and the PyTorch references (upstream's recompute-everything loop and a KV-cached variant)
/// side by side in one run, on the same checkpoint, the same seeded inputs and the same number of generated frames
/// (greedy; the references are forced to that many frames, the bench checkpoint never favours EOS). Prints AR
/// ms/token, decode ms/step, prefill, NAR, total, real-time factor, the engine's speedup over each reference and
/// the AR decode step against its memory-bandwidth floor. `valle bench` is the command-line entry.
/// </summary>
public static class BenchRun
{
    /// <summary>
    /// Runs the benchmark and writes the table (or JSON) to <paramref name="output"/>. Expected failures are
    /// <see cref="NativeDependencyException"/> (no torch where it is needed) and <see cref="InvalidInputException"/>
    /// (checkpoint, reference failure); cancellation throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public static void Execute(BenchSettings settings, TextWriter output, IBenchLog log, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(log);
        Guard(settings);
        string preset = settings.Preset;
        int frames = settings.Frames, textLen = settings.TextTokens, promptFrames = settings.PromptFrames;
        int threads = settings.Threads;
        string python = settings.Python;
        string torch = settings.Torch.ToString().ToLowerInvariant();

        // Torch is needed to make a preset checkpoint and for the references; find out once.
        string? referenceDir = BenchSetup.FindReferenceDir();
        string? torchMissing = referenceDir is null ? "bench/reference not found (run from the repository)"
            : TorchReferenceRunner.IsAvailable(python, cancel, out string why) ? null : why;
        if (settings.Torch is TorchReferences.Cached or TorchReferences.Upstream or TorchReferences.Both && torchMissing is not null)
            throw new NativeDependencyException($"--torch {torch}: {torchMissing}");

        string checkpointPath = settings.Checkpoint ?? (torchMissing is null
            ? BenchSetup.EnsureCheckpoint(log, preset, settings.CacheDir, python, referenceDir!, cancel,
                narLen: settings.Mode == EckerBench.NarLenMode)
            : throw new NativeDependencyException($"making the '{preset}' bench checkpoint needs PyTorch: {torchMissing}; or pass --checkpoint"));
        if (settings.Checkpoint is not null) preset = "checkpoint";
        if (EckerBench.IsEckerPreset(settings.Preset) && settings.Checkpoint is null
            || settings.Checkpoint is not null && settings.Checkpoint.EndsWith(".sft", StringComparison.OrdinalIgnoreCase))
        {
            EckerBench.Run(settings, preset, checkpointPath, referenceDir, torchMissing, output, log, cancel);
            return;
        }

        var loadClock = Stopwatch.StartNew();
        var engineOptions = new EngineOptions { Threads = threads, WeightsDType = settings.WeightsDType };
        using ValleModel model = (settings.LoadModel ?? LoadModel)(checkpointPath, engineOptions);   // its backend's worker threads
        ModelConfig config = model.Config;
        double loadSeconds = loadClock.Elapsed.TotalSeconds;

        var (text, prompt) = BenchSetup.RandomInputs(textLen, promptFrames, config.TextVocab, config.NumQuantizers,
            config.AudioVocab, settings.Seed);
        int enroll = textLen / 2;
        var engine = new EngineRunner(model);
        // One whole untimed run first: the JIT tiers hot methods up only after they have run a while, and a
        // short warm-up left the NAR (which runs once per codebook) at tier 0.
        log.Info($"warming up the engine ({preset}, {threads} threads)");
        engine.Run(text, prompt, enroll, frames);
        cancel.ThrowIfCancellationRequested();
        log.Info($"engine: {frames} frames");
        var (engineTiming, engineCodes, stop) = engine.Run(text, prompt, enroll, frames);
        if (engineTiming.Frames != frames)
            log.Warn($"the engine stopped after {engineTiming.Frames} of {frames} frames ({stop}); the references still run {frames}");

        string? skipped = settings.Torch == TorchReferences.None ? "--torch none" : torchMissing;
        var (references, firstDifferent) = skipped is not null ? ([], [])
            : RunReferences(settings, new TorchReferenceRunner(python, referenceDir!, threads, "valle_reference.py"), checkpointPath,
                text, prompt, engineCodes, ["--enroll-len", enroll.ToString(System.Globalization.CultureInfo.InvariantCulture), "--top-k", "1"],
                log, cancel);

        double bandwidth = settings.BandwidthGBps ?? MeasureBandwidth(log, threads);
        var floor = new DecodeFloor(ArStepWeightBytes(config, settings.WeightsDType),
            2L * config.NumLayers * (textLen + promptFrames + frames) * config.DModel * sizeof(float), bandwidth);

        var report = new BenchReport
        {
            Preset = preset,
            Checkpoint = checkpointPath,
            Config = config,
            WeightsDType = DTypeName(settings.WeightsDType),
            Threads = threads,
            TextTokens = textLen,
            PromptFrames = promptFrames,
            Frames = frames,
            Machine = DescribeMachine(),
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
    /// The PyTorch variants <paramref name="settings"/> asks for, on the same inputs as the engine, each timed and
    /// compared with the engine's codes (first differing frame, null when equal). Shared by every preset.
    /// </summary>
    internal static (List<BenchMeasurement> References, List<int?> FirstDifferent) RunReferences(BenchSettings settings,
        TorchReferenceRunner runner, string checkpointPath, long[] text, AudioCodes prompt, AudioCodes engineCodes,
        IReadOnlyList<string> extra, IBenchLog log, CancellationToken cancel)
    {
        string[] variants = settings.Torch switch
        {
            TorchReferences.Cached => ["cached"],
            TorchReferences.Upstream => ["upstream"],
            _ => ["cached", "upstream"],
        };
        var references = new List<BenchMeasurement>();
        var firstDifferent = new List<int?>();
        string inputs = Path.Combine(Path.GetTempPath(), "valle-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(inputs);
        try
        {
            BenchSetup.WriteInputs(inputs, text, prompt);
            foreach (string variant in variants)
            {
                log.Info($"PyTorch {variant}: {settings.Frames} frames");
                var (timing, codes) = runner.Run(variant, checkpointPath, inputs, settings.Frames, extra, cancel);
                references.Add(timing);
                firstDifferent.Add(FirstDifferentFrame(engineCodes, codes));
            }
        }
        finally
        {
            try { Directory.Delete(inputs, recursive: true); } catch (IOException) { }
        }
        return (references, firstDifferent);
    }

    /// <summary>The caller validates (with its own wording); this only refuses what cannot run.</summary>
    private static void Guard(BenchSettings s)
    {
        if (s.Checkpoint is null && !BenchSetup.Presets.Contains(s.Preset))
            throw new ArgumentOutOfRangeException(nameof(s.Preset), s.Preset, $"not one of {string.Join(", ", BenchSetup.Presets)}");
        ArgumentOutOfRangeException.ThrowIfLessThan(s.Frames, 2, nameof(s.Frames));
        ArgumentOutOfRangeException.ThrowIfLessThan(s.TextTokens, 3, nameof(s.TextTokens));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(s.Frames, GenerationRequest.MaxFramesPerTextToken * s.TextTokens, nameof(s.Frames));
        ArgumentOutOfRangeException.ThrowIfLessThan(s.PromptFrames, 1, nameof(s.PromptFrames));
        ArgumentOutOfRangeException.ThrowIfLessThan(s.Threads, 1, nameof(s.Threads));
        if (s.BandwidthGBps is { } gbps && !(gbps > 0 && double.IsFinite(gbps)))
            throw new ArgumentOutOfRangeException(nameof(s.BandwidthGBps), gbps, "must be a positive number of GB/s");
    }

    private static ValleModel LoadModel(string path, EngineOptions options)
    {
        using var checkpoint = ModelCheckpoint.Open(path);
        return ValleModel.Load(checkpoint, options);
    }

    internal static string DTypeName(WeightsDType dtype) => dtype switch
    {
        WeightsDType.BF16 => "bf16",
        WeightsDType.Int8 => "int8",
        _ => "f32",
    };

    /// <summary>
    /// Bytes one AR decode step reads from the weights: every linear layer of the AR decoder plus the prediction
    /// layer (embedding rows and norms are noise). Biases and int8 row scales are float32.
    /// </summary>
    internal static long ArStepWeightBytes(ModelConfig c, WeightsDType dtype)
    {
        long Linear(long outF, long inF, bool bias = true)
        {
            long weights = dtype switch
            {
                WeightsDType.BF16 => outF * inF * 2,
                WeightsDType.Int8 => outF * inF + outF * 4,
                _ => outF * inF * 4,
            };
            return weights + (bias ? outF * 4 : 0);
        }
        long d = c.DModel, ff = c.FeedForwardDim;
        long layer = Linear(3 * d, d) + Linear(d, d) + Linear(ff, d) + Linear(d, ff) + 4 * d * 4;
        return c.NumLayers * layer + Linear(c.AudioVocab + 1, d, bias: false);
    }

    internal static double MeasureBandwidth(IBenchLog log, int threads)
    {
        log.Info("measuring memory bandwidth");
        // Its own backend with the engine's thread count (the model's workers sleep meanwhile).
        using var backend = new CpuBackend(threads);
        return MemoryBandwidth.MeasureGBps(backend);
    }

    internal static int? FirstDifferentFrame(AudioCodes a, AudioCodes b)
    {
        int frames = Math.Min(a.Frames, b.Frames), q = Math.Min(a.Codebooks, b.Codebooks);
        for (int t = 0; t < frames; t++)
            if (!a.Frame(t)[..q].SequenceEqual(b.Frame(t)[..q])) return t;
        return a.Frames == b.Frames ? null : frames;
    }

    internal static string DescribeMachine()
    {
        string cpu = "unknown CPU";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))
                ?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        string load = "";
        try { load = ", load average " + string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return string.Create(CultureInfo.InvariantCulture,
            $"{cpu}, {Environment.ProcessorCount} logical cores{load}, .NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
    }
}
