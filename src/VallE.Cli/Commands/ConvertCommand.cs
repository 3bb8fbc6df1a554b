using System.CommandLine;
using System.Globalization;
using VallE.Weights;

namespace VallE.Cli.Commands;

/// <summary>
/// <c>valle convert CKPT OUTDIR [--dtype f32|f16|bf16] [--nhead N] [--prefix-mode M]</c>: writes
/// OUTDIR/model.safetensors (canonical names, tied tensors once) and OUTDIR/config.json (resolved config, sources,
/// tied aliases, provenance); for an e-c-k-e-r/vall-e model model.safetensors is upstream's .sft layout with its metadata
/// (CheckpointConverter.ConvertEcker). Both are staged in a temporary folder and moved into place at the end, so a failure
/// or Ctrl-C leaves no new or half-written folder behind. Only floating tensors are converted by --dtype.
/// </summary>
internal static class ConvertCommand
{
    public static Command Create(CliContext ctx)
    {
        var pathArg = new Argument<string>("CKPT") { Description = "A .pt checkpoint, a converted folder, a .safetensors file with config.json beside it, or an e-c-k-e-r/vall-e export (.sft or .pt)." };
        var outArg = new Argument<string>("OUTDIR") { Description = "Folder to write model.safetensors and config.json into (created if needed)." };
        var dtypeOpt = new Option<string?>("--dtype")
        {
            HelpName = "f32|f16|bf16",
            Description = "Store floating weights as this dtype (default: as in the checkpoint).",
        };
        var options = new CheckpointOptions();

        var command = new Command("convert", "Convert a checkpoint to model.safetensors + config.json.");
        command.Arguments.Add(pathArg);
        command.Arguments.Add(outArg);
        command.Options.Add(dtypeOpt);
        options.AddTo(command);

        command.SetAction(parse => CliApp.Guard(ctx, () =>
        {
            DType? dtype = parse.GetValue(dtypeOpt) switch
            {
                null => null,
                "f32" => DType.Float32,
                "f16" => DType.Float16,
                "bf16" => DType.BFloat16,
                var other => throw new UsageException($"--dtype '{other}' must be f32, f16 or bf16"),
            };
            var overrides = options.Read(parse);
            using var checkpoint = CheckpointOptions.Open(ctx, parse.GetValue(pathArg)!, overrides);
            CheckpointConverter.Summary summary;
            try
            {
                summary = CheckpointConverter.Convert(checkpoint, parse.GetValue(outArg)!, dtype, ctx.Cancellation);
            }
            catch (ArgumentException e) when (e.ParamName == "dtype")
            {
                throw new UsageException("--" + OptionErrors.BareMessage(e), e);
            }
            ctx.Out.WriteLine(
                $"wrote {summary.WeightsPath} ({summary.StoredTensors} tensors, {summary.TiedAliases} tied aliases, " +
                $"{(summary.Bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture)} MiB, {summary.DType.ShortName()}) and {summary.ConfigPath}");
            return ExitCodes.Success;
        }));
        return command;
    }
}
