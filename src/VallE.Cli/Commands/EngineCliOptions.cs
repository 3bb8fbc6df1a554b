using System.CommandLine;
using VallE.Runtime.Cpu;
using VallE.Runtime.Models;

namespace VallE.Cli.Commands;

/// <summary>
/// The CPU engine options of <c>valle generate</c> and <c>valle synth</c>: <c>--threads</c> (0 = all cores) and
/// <c>--weights-dtype</c>. <c>valle bench</c> has its own --threads (at least 1, default the core count: it also
/// sizes torch) but parses --weights-dtype with <see cref="ParseWeightsDType"/>. Bad values are usage errors (exit 2).
/// </summary>
internal sealed class EngineCliOptions
{
    /// <summary>
    /// The most worker threads a command accepts: far above any machine's cores, yet below the point where starting
    /// the workers aborts the process (100000 threads crash the runtime outright, before any error can be shown).
    /// </summary>
    public const int MaxThreads = 1024;

    private readonly Option<int> _threads = new("--threads") { HelpName = "N", DefaultValueFactory = _ => 0, Description = "CPU threads of the model (0 = all cores)." };
    private readonly Option<string> _dtype = new("--weights-dtype") { HelpName = "f32|bf16|int8", DefaultValueFactory = _ => "f32", Description = "Storage of the linear layers' weights." };

    public void AddTo(Command command)
    {
        command.Options.Add(_threads);
        command.Options.Add(_dtype);
    }

    public EngineOptions Read(ParseResult parse)
    {
        int threads = parse.GetValue(_threads);
        if (threads is < 0 or > MaxThreads) throw new UsageException($"--threads {threads} must be 0..{MaxThreads} (0 = all cores)");
        return new EngineOptions { Threads = threads, WeightsDType = ParseWeightsDType(parse.GetValue(_dtype)) };
    }

    public static WeightsDType ParseWeightsDType(string? text) => text switch
    {
        "f32" => WeightsDType.F32,
        "bf16" => WeightsDType.BF16,
        "int8" => WeightsDType.Int8,
        var other => throw new UsageException($"--weights-dtype '{other}' must be f32, bf16 or int8"),
    };
}
