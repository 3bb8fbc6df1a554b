using System.CommandLine;
using VallE.Benchmarking;
using VallE.Runtime.Cpu;
using VallE.Runtime.Models;
using VallE.Weights;

namespace VallE.Cli.Commands;

/// <summary>
/// <c>valle bench [--preset tiny|small|full|ecker-small|ecker] [--checkpoint CKPT] [--frames N] [--text-len 60] [--prompt-frames 225]
/// [--threads N] [--weights-dtype f32|bf16|int8] [--torch auto|none|cached|upstream|both] [--mode ar-nar|nar-len] [--json]</c>:
/// times our CPU engine and the PyTorch references side by side (see <see cref="BenchRun"/>, in
/// bench/VallE.Benchmarking). This file only parses and validates the options (bad ones are usage errors, exit 2).
/// </summary>
internal static class BenchCommand
{
    private static readonly string[] TorchChoices = ["auto", "none", "cached", "upstream", "both"];

    public static Command Create(CliContext ctx)
    {
        var presetOpt = new Option<string>("--preset")
        {
            HelpName = "P",
            Description = "Random-weight model: tiny (64/2 layers), small (512 wide, 8 heads, 6 layers), full (1024/16/12, ~1.4 GB); " +
                "ecker-small (256/4/4) or ecker (1024/16/12), an e-c-k-e-r/vall-e ar+nar .sft.",
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
            Description = "Generated AR frames, identical for every implementation (default 150; 50 for full, 40 for ecker, 75 for ecker-small).",
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
            DefaultValueFactory = _ => BenchSettings.DefaultPython,
        };
        var cacheOpt = new Option<string>("--cache-dir")
        {
            HelpName = "DIR",
            Description = "Where generated checkpoints are kept between runs (default $VALLE_BENCH_CACHE or /tmp/valle-bench).",
            DefaultValueFactory = _ => BenchSettings.DefaultCacheDir,
        };
        var seedOpt = new Option<ulong>("--seed") { HelpName = "S", Description = "Seed of the random inputs.", DefaultValueFactory = _ => 0 };
        var bandwidthOpt = new Option<double?>("--bandwidth")
        {
            HelpName = "GBPS",
            Description = "Memory bandwidth for the decode floor, in GB/s (default: measured with a 512 MiB read).",
        };
        var modeOpt = new Option<string>("--mode")
        {
            HelpName = "M",
            Description = "Ecker presets: ar-nar (KV-cached AR + NAR levels) or nar-len (an ar+nar-len model: len task, " +
                "25 demasking steps at --frames frames, NAR levels; PyTorch: upstream's algorithm, ecker_reference.py --mode nar-len).",
            DefaultValueFactory = _ => "ar-nar",
        };
        var jsonOpt = new Option<bool>("--json") { Description = "Print one JSON object instead of the table." };
        var checkpointOptions = new CheckpointOptions();

        var command = new Command("bench", "Benchmark the runtime against PyTorch references.");
        foreach (Option o in new Option[] { presetOpt, checkpointOpt, framesOpt, textLenOpt, promptOpt, threadsOpt, dtypeOpt,
                     torchOpt, pythonOpt, cacheOpt, seedOpt, bandwidthOpt, modeOpt, jsonOpt })
            command.Options.Add(o);
        checkpointOptions.AddTo(command);

        command.SetAction(parse => CliApp.Guard(ctx, () =>
        {
            string preset = parse.GetValue(presetOpt) ?? "small";
            if (!BenchSettings.Presets.Contains(preset))
                throw new UsageException($"--preset '{preset}' must be one of {string.Join(", ", BenchSettings.Presets)}");
            int frames = parse.GetValue(framesOpt) ?? BenchSettings.DefaultFrames(preset);
            int textLen = parse.GetValue(textLenOpt), promptFrames = parse.GetValue(promptOpt), threads = parse.GetValue(threadsOpt);
            if (frames < 2) throw new UsageException($"--frames {frames} must be at least 2");
            if (textLen < 3) throw new UsageException($"--text-len {textLen} must be at least 3 (<bos>, a token, <eos>)");
            if (promptFrames < 1) throw new UsageException($"--prompt-frames {promptFrames} must be at least 1");
            if (threads is < 1 or > EngineCliOptions.MaxThreads) throw new UsageException($"--threads {threads} must be 1..{EngineCliOptions.MaxThreads}");
            double? bandwidth = parse.GetValue(bandwidthOpt);
            if (bandwidth is { } gbps && !(gbps > 0 && double.IsFinite(gbps)))
                throw new UsageException($"--bandwidth {gbps} must be a positive number of GB/s");
            int limit = GenerationRequest.MaxFramesPerTextToken * textLen;
            if (frames > limit) throw new UsageException($"--frames {frames} exceeds upstream's limit of {GenerationRequest.MaxFramesPerTextToken} per text token ({limit})");
            WeightsDType dtype = EngineCliOptions.ParseWeightsDType(parse.GetValue(dtypeOpt));
            string torch = parse.GetValue(torchOpt) ?? "auto";
            if (!TorchChoices.Contains(torch))
                throw new UsageException($"--torch '{torch}' must be one of {string.Join(", ", TorchChoices)}");

            string mode = parse.GetValue(modeOpt) ?? "ar-nar";
            if (mode is not ("ar-nar" or "nar-len")) throw new UsageException($"--mode '{mode}' must be ar-nar or nar-len");
            if (mode == "nar-len" && !preset.StartsWith("ecker", StringComparison.Ordinal) && parse.GetValue(checkpointOpt) is null)
                throw new UsageException("--mode nar-len needs an ecker preset (ecker-small, ecker) or an ar+nar-len .sft --checkpoint");
            var settings = new BenchSettings
            {
                Mode = mode,
                Preset = preset,
                Checkpoint = parse.GetValue(checkpointOpt),
                LoadModel = (path, options) =>
                {
                    using var checkpoint = CheckpointOptions.Open(ctx, path, checkpointOptions.Read(parse));
                    return CpuModelLoader.Load(checkpoint, options);
                },
                Frames = frames,
                TextTokens = textLen,
                PromptFrames = promptFrames,
                Threads = threads,
                WeightsDType = dtype,
                Torch = Enum.Parse<TorchReferences>(torch, ignoreCase: true),
                Python = parse.GetValue(pythonOpt) ?? BenchSettings.DefaultPython,
                CacheDir = parse.GetValue(cacheOpt)!,
                Seed = parse.GetValue(seedOpt),
                BandwidthGBps = bandwidth,
                Json = parse.GetValue(jsonOpt),
                RichTable = ctx.Interactive,
            };
            BenchRun.Execute(settings, ctx.Out, new CliBenchLog(ctx), ctx.Cancellation);
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>Progress and warnings as every command prints them (<c>valle: ...</c> on stderr).</summary>
    private sealed class CliBenchLog(CliContext ctx) : IBenchLog
    {
        public void Info(string message) => ctx.Info(message);
        public void Warn(string message) => ctx.Warn(message);
    }
}
