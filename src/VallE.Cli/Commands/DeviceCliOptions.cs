using System.CommandLine;
using VallE.Runtime.Cuda;
using VallE.Runtime.Models;
using VallE.Runtime.Pipeline;
using VallE.Weights;

namespace VallE.Cli.Commands;

/// <summary>
/// <c>--device cpu|cuda|auto</c>, shared by <c>generate</c> and <c>synth</c>, and the one place that turns it into a
/// code generator: <c>cuda</c> without a usable GPU (or for a checkpoint the CUDA engine cannot run) is exit 3 with
/// the reason; <c>auto</c> falls back to the CPU with one log line.
/// </summary>
internal sealed class DeviceCliOptions
{
    private readonly Option<string> _device = new("--device")
    {
        HelpName = "cpu|cuda|auto",
        Description = "Where the model runs (auto: CUDA when a usable GPU and a supported checkpoint, else CPU).",
        DefaultValueFactory = _ => "cpu",
    };

    public void AddTo(Command command) => command.Options.Add(_device);

    /// <summary>Parses the option (exit 2 for an unknown value) before any expensive work.</summary>
    public DeviceKind Read(ParseResult parse)
    {
        try
        {
            return DeviceSelection.Parse(parse.GetValue(_device) ?? "cpu");
        }
        catch (ArgumentException e)
        {
            throw new UsageException("--" + OptionErrors.BareMessage(e), e);   // "--device must be auto, cpu or cuda ..."
        }
    }

    /// <summary>The validated value as the library's <c>Device</c> string (<c>cpu</c>, <c>cuda</c>, <c>auto</c>).</summary>
    public string Name(ParseResult parse)
    {
        Read(parse);
        return (parse.GetValue(_device) ?? "cpu").Trim().ToLowerInvariant();
    }

    /// <summary>
    /// The generator for <paramref name="checkpoint"/> on the requested device (<see cref="CodeGeneratorFactory"/>,
    /// errors naming <c>--device</c>). The caller owns both the returned generator and <paramref name="gpu"/> (null
    /// when running on the CPU).
    /// </summary>
    public static ICodeGenerator CreateGenerator(CliContext ctx, DeviceKind kind, ModelCheckpoint checkpoint,
        EngineOptions engineOptions, out CudaDevice? gpu) =>
        CodeGeneratorFactory.Create(kind, checkpoint, engineOptions, ctx.Info, out gpu, "--device", CpuModelLoader.Load);
}
