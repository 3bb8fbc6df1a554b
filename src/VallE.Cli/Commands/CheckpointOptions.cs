using System.CommandLine;
using VallE.Weights;

namespace VallE.Cli.Commands;

/// <summary>
/// The options every command that opens a checkpoint shares: <c>--nhead</c> and <c>--prefix-mode</c> (VALL-E X
/// files store no hyper-parameters; these override what was stored, inferred or defaulted) and
/// <c>--family</c>. Out-of-range values are usage errors (exit 2).
/// </summary>
internal sealed class CheckpointOptions
{
    public Option<int?> NHead { get; } = new("--nhead")
    {
        HelpName = "N",
        Description = "Attention heads of the AR decoder (the NAR uses N * scale_factor); overrides the checkpoint.",
    };

    public Option<int?> PrefixMode { get; } = new("--prefix-mode")
    {
        HelpName = "M",
        Description = "NAR prompt handling (0, 1, 2 or 4); overrides the checkpoint (VALL-E X default 1).",
    };

    public Option<string?> Family { get; } = new("--family")
    {
        HelpName = "F",
        Description = "Model family (valle, vallf, vallex); normally detected from the tensors.",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(NHead);
        command.Options.Add(PrefixMode);
        command.Options.Add(Family);
    }

    public ConfigOverrides Read(ParseResult parse)
    {
        int? nhead = parse.GetValue(NHead);
        if (nhead is < 1 or > 4096) throw new UsageException($"--nhead {nhead} must be 1..4096");
        int? prefixMode = parse.GetValue(PrefixMode);
        if (prefixMode is not (null or 0 or 1 or 2 or 4)) throw new UsageException($"--prefix-mode {prefixMode} must be 0, 1, 2 or 4");
        ModelFamily? family = parse.GetValue(Family) switch
        {
            null => null,
            "valle" => ModelFamily.Valle,
            "vallf" => ModelFamily.Vallf,
            "vallex" => ModelFamily.VallEX,
            var other => throw new UsageException($"--family '{other}' must be valle, vallf or vallex"),
        };
        return new ConfigOverrides { NHead = nhead, PrefixMode = prefixMode, Family = family };
    }

    /// <summary>The flag of each <see cref="ConfigOverrides"/> property.</summary>
    private static readonly Dictionary<string, string> Flags = new()
    {
        [nameof(ConfigOverrides.NHead)] = "--nhead",
        [nameof(ConfigOverrides.PrefixMode)] = "--prefix-mode",
        [nameof(ConfigOverrides.Family)] = "--family",
    };

    /// <summary>
    /// Opens the checkpoint and reports applied overrides on stderr (one line each). An override that cannot apply
    /// to this model is a usage error (exit 2).
    /// </summary>
    public static ModelCheckpoint Open(CliContext ctx, string path, ConfigOverrides overrides)
    {
        ModelCheckpoint checkpoint;
        try
        {
            checkpoint = ModelCheckpoint.Open(path, overrides);
        }
        catch (ArgumentException e) when (e.ParamName is { } name && Flags.ContainsKey(name))
        {
            throw new UsageException(OptionErrors.BareMessage(e), e);
        }
        catch (InvalidInputException e) when (e.Setting == nameof(ConfigOverrides.NHead))
        {
            // The checkpoint does not store nhead and the default does not fit: the user has to say.
            throw OptionErrors.WithFlag(e, "; pass --nhead");
        }
        foreach (string note in checkpoint.OverrideNotes) ctx.Info($"note: {note}");
        return checkpoint;
    }
}
