using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using VallE.Cli.Commands.Bench;
using VallE.Runtime.Cpu;
using VallE.Runtime.Models;
using VallE.Weights;

namespace VallE.Cli.Commands;

/// <summary>
/// <c>valle bench [--preset tiny|small|full] [--checkpoint CKPT] [--frames N] [--text-len 60] [--prompt-frames 225]
/// [--threads N] [--weights-dtype f32|bf16|int8] [--torch auto|none|cached|upstream|both] [--json]</c>:
/// times our CPU engine and the PyTorch references (upstream's recompute-everything loop and a KV-cached variant)
/// side by side in one run, on the same checkpoint, the same seeded inputs and the same number of generated frames
/// (greedy; the references are forced to that many frames, the bench checkpoint never favours EOS). Prints AR
/// ms/token, decode ms/step, prefill, NAR, total, real-time factor, the engine's speedup over each reference and
/// the AR decode step against its memory-bandwidth floor.
/// </summary>
internal static class BenchCommand
{
    private static readonly string[] TorchChoices = ["auto", "none", "cached", "upstream", "both"];

    public static Command Create(CliContext ctx)
    {
        var presetOpt = new Option<string>("--preset")
        {
            HelpName = "P",
            Description = "Random-weight model: tiny (64/2 layers), small (512 wide, 8 heads, 6 layers), full (1024/16/12, ~1.4 GB).",
            DefaultValueFactory = _ => "small",
        };
        var checkpointOpt = new Option<string?>("--checkpoint")
        {
            HelpName = "CKPT",
            Description = "Benchmark this checkpoint instead of a generated preset (EOS may then stop the references early: they are forced to --frames).",
        };
        var framesOpt = new Option<int?>("--frames")
        {
            HelpName = "N",
            Description = "Generated AR frames, identical for every implementation (default 150; 50 for full).",
        };
        var textLenOpt = new Option<int>("--text-len") { HelpName = "S", Description = "Text tokens (with <bos>/<eos>).", DefaultValueFactory = _ => 60 };
        var promptOpt = new Option<int>("--prompt-frames") { HelpName = "T", Description = "Prompt frames (225 = 3 s).", DefaultValueFactory = _ => 225 };
        var threadsOpt = new Option<int>("--threads")
        {
            HelpName = "N",
            Description = "Threads for the engine and for torch (default: all cores).",
            DefaultValueFactory = _ => Environment.ProcessorCount,
        };
        var dtypeOpt = new Option<string>("--weights-dtype")
        {
            HelpName = "D",
            Description = "Engine weight storage: f32, bf16 or int8 (the references are always f32).",
            DefaultValueFactory = _ => "f32",
        };
        var torchOpt = new Option<string>("--torch")
        {
            HelpName = "WHICH",
            Description = "PyTorch references to run: auto (both when torch is importable), none, cached, upstream, both.",
            DefaultValueFactory = _ => "auto",
        };
        var pythonOpt = new Option<string>("--python")
        {
            HelpName = "PATH",
            Description = "Python with torch (default /usr/bin/python3, Debian's python3-torch).",
            DefaultValueFactory = _ => BenchSetup.DefaultPython,
        };
        var cacheOpt = new Option<string>("--cache-dir")
        {
            HelpName = "DIR",
            Description = "Where generated checkpoints are kept between runs (default $VALLE_BENCH_CACHE or /tmp/valle-bench).",
            DefaultValueFactory = _ => BenchSetup.DefaultCacheDir,
        };
        var seedOpt = new Option<ulong>("--seed") { HelpName = "S", Description = "Seed of the random inputs.", DefaultValueFactory = _ => 0 };
        var bandwidthOpt = new Option<double?>("--bandwidth")
        {
            HelpName = "GBPS",
            Description = "Memory bandwidth for the decode floor, in GB/s (default: measured with a 512 MiB read).",
        };
        var jsonOpt = new Option<bool>("--json") { Description = "Print one JSON object instead of the table." };
        var checkpointOptions = new CheckpointOptions();

        var command = new Command("bench", "Benchmark the runtime against PyTorch references.");
        foreach (Option o in new Option[] { presetOpt, checkpointOpt, framesOpt, textLenOpt, promptOpt, threadsOpt, dtypeOpt,
                     torchOpt, pythonOpt, cacheOpt, seedOpt, bandwidthOpt, jsonOpt })
            command.Options.Add(o);
        checkpointOptions.AddTo(command);

        command.SetAction(parse => CliApp.Guard(ctx, () =>
        {
            string preset = parse.GetValue(presetOpt) ?? "small";
            if (!BenchSetup.Presets.Contains(preset))
                throw new UsageException($"--preset '{preset}' must be one of {string.Join(", ", BenchSetup.Presets)}");
            int frames = parse.GetValue(framesOpt) ?? (preset == "full" ? 50 : 150);
            int textLen = parse.GetValue(textLenOpt), promptFrames = parse.GetValue(promptOpt), threads = parse.GetValue(threadsOpt);
            if (frames < 2) throw new UsageException($"--frames {frames} must be at least 2");
            if (textLen < 3) throw new UsageException($"--text-len {textLen} must be at least 3 (<bos>, a token, <eos>)");
            if (promptFrames < 1) throw new UsageException($"--prompt-frames {promptFrames} must be at least 1");
            if (threads is < 1 or > EngineCliOptions.MaxThreads) throw new UsageException($"--threads {threads} must be 1..{EngineCliOptions.MaxThreads}");
            if (parse.GetValue(bandwidthOpt) is { } gbps && !(gbps > 0 && double.IsFinite(gbps)))
                throw new UsageException($"--bandwidth {gbps} must be a positive number of GB/s");
            if (frames > 16 * textLen) throw new UsageException($"--frames {frames} exceeds upstream's limit of 16 per text token ({16 * textLen})");
            WeightsDType dtype = EngineCliOptions.ParseWeightsDType(parse.GetValue(dtypeOpt));
            string torch = parse.GetValue(torchOpt) ?? "auto";
            if (!TorchChoices.Contains(torch))
                throw new UsageException($"--torch '{torch}' must be one of {string.Join(", ", TorchChoices)}");
            string python = parse.GetValue(pythonOpt) ?? BenchSetup.DefaultPython;

            // Torch is needed to make a preset checkpoint and for the references; find out once.
            string? referenceDir = BenchSetup.FindReferenceDir();
            string? torchMissing = referenceDir is null ? "bench/reference not found (run from the repository)"
                : TorchReferenceRunner.IsAvailable(python, ctx.Cancellation, out string why) ? null : why;
            if (torch is "cached" or "upstream" or "both" && torchMissing is not null)
                throw new NativeDependencyException($"--torch {torch}: {torchMissing}");

            string checkpointPath = parse.GetValue(checkpointOpt) ?? (torchMissing is null
                ? BenchSetup.EnsureCheckpoint(ctx, preset, parse.GetValue(cacheOpt)!, python, referenceDir!)
                : throw new NativeDependencyException($"making the '{preset}' bench checkpoint needs PyTorch: {torchMissing}; or pass --checkpoint"));
            if (parse.GetValue(checkpointOpt) is not null) preset = "checkpoint";

            var loadClock = Stopwatch.StartNew();
            ValleModel model;
            ModelConfig config;
            using (var checkpoint = CheckpointOptions.Open(ctx, checkpointPath, checkpointOptions.Read(parse)))
            {
                config = checkpoint.Config;
                model = CpuModelLoader.Load(checkpoint, new EngineOptions { Threads = threads, WeightsDType = dtype });
            }
            using var ownedModel = model;   // its backend's worker threads (the engine's --threads)
            double loadSeconds = loadClock.Elapsed.TotalSeconds;

            var (text, prompt) = BenchSetup.RandomInputs(textLen, promptFrames, config.TextVocab, config.NumQuantizers,
                config.AudioVocab, parse.GetValue(seedOpt));
            int enroll = textLen / 2;
            var engine = new EngineRunner(model);
            // One whole untimed run first: the JIT tiers hot methods up only after they have run a while, and a
            // short warm-up left the NAR (which runs once per codebook) at tier 0.
            ctx.Info($"warming up the engine ({preset}, {threads} threads)");
            engine.Run(text, prompt, enroll, frames);
            ctx.Cancellation.ThrowIfCancellationRequested();
            ctx.Info($"engine: {frames} frames");
            var (engineTiming, engineCodes, stop) = engine.Run(text, prompt, enroll, frames);
            if (engineTiming.Frames != frames)
                ctx.Warn($"the engine stopped after {engineTiming.Frames} of {frames} frames ({stop}); the references still run {frames}");

            var references = new List<BenchMeasurement>();
            var firstDifferent = new List<int?>();
            string? skipped = torch == "none" ? "--torch none" : torchMissing;
            if (skipped is null)
            {
                string[] variants = torch switch { "cached" => ["cached"], "upstream" => ["upstream"], _ => ["cached", "upstream"] };
                string inputs = Path.Combine(Path.GetTempPath(), "valle-bench-" + Guid.NewGuid().ToString("N"));
                Directory.CreateDirectory(inputs);
                try
                {
                    BenchSetup.WriteInputs(inputs, text, prompt);
                    var runner = new TorchReferenceRunner(python, referenceDir!, threads);
                    foreach (string variant in variants)
                    {
                        ctx.Info($"PyTorch {variant}: {frames} frames");
                        var (timing, codes) = runner.Run(variant, checkpointPath, inputs, enroll, frames, ctx.Cancellation);
                        references.Add(timing);
                        firstDifferent.Add(FirstDifferentFrame(engineCodes, codes));
                    }
                }
                finally
                {
                    try { Directory.Delete(inputs, recursive: true); } catch (IOException) { }
                }
            }

            double bandwidth = parse.GetValue(bandwidthOpt) ?? MeasureBandwidth(ctx, threads);
            var floor = new DecodeFloor(ArStepWeightBytes(config, dtype),
                2L * config.NumLayers * (textLen + promptFrames + frames) * config.DModel * sizeof(float), bandwidth);

            var report = new BenchReport
            {
                Preset = preset,
                Checkpoint = checkpointPath,
                Config = config,
                WeightsDType = parse.GetValue(dtypeOpt)!,
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
            if (parse.GetValue(jsonOpt)) report.WriteJson(ctx);
            else report.WriteTable(ctx);
            return ExitCodes.Success;
        }));
        return command;
    }

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

    private static double MeasureBandwidth(CliContext ctx, int threads)
    {
        ctx.Info("measuring memory bandwidth");
        // Its own backend with the engine's thread count (the model's workers sleep meanwhile).
        using var backend = new CpuBackend(threads);
        return MemoryBandwidth.MeasureGBps(backend);
    }

    private static int? FirstDifferentFrame(long[,] a, long[,] b)
    {
        int frames = Math.Min(a.GetLength(0), b.GetLength(0)), q = Math.Min(a.GetLength(1), b.GetLength(1));
        for (int t = 0; t < frames; t++)
            for (int j = 0; j < q; j++)
                if (a[t, j] != b[t, j]) return t;
        return a.GetLength(0) == b.GetLength(0) ? null : frames;
    }

    private static string DescribeMachine()
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
