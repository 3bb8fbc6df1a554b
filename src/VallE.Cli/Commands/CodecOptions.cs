using System.CommandLine;
using VallE.Runtime.Onnx;

namespace VallE.Cli.Commands;

/// <summary>
/// Options shared by the commands that run EnCodec through ONNX Runtime (encode, decode, synth). ONNX Runtime itself
/// is the Microsoft.ML.OnnxRuntime package's native library, shipped next to the application: there is no option
/// to pick another one (see docs/audio.md, "ONNX Runtime").
/// </summary>
internal sealed class CodecOptions
{
    /// <summary>
    /// Removed (it chose libonnxruntime when build.sh fetched it from npm): kept hidden only to say so in one line
    /// instead of the parser's two about an unknown option and a stray argument.
    /// </summary>
    private Option<string?> RemovedOnnxRuntime { get; } = new("--onnxruntime") { Hidden = true };

    public Option<int> Threads { get; } = new("--codec-threads")
    {
        HelpName = "N",
        Description = "ONNX Runtime intra-op threads for the codec (0: one per core).",
        DefaultValueFactory = _ => 0,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Threads);
        command.Options.Add(RemovedOnnxRuntime);
    }

    public OnnxSessionOptions Read(ParseResult parse, CliContext ctx, bool preferCuda = false)
    {
        if (parse.GetResult(RemovedOnnxRuntime) is not null)
            throw new UsageException("--onnxruntime was removed: valle runs the ONNX Runtime it ships with (NuGet Microsoft.ML.OnnxRuntime); drop the option");
        int threads = parse.GetValue(Threads);
        if (threads is < 0 or > EngineCliOptions.MaxThreads)
            throw new UsageException($"--codec-threads {threads} must be 0..{EngineCliOptions.MaxThreads} (0 = one per core)");
        return new OnnxSessionOptions
        {
            IntraOpThreads = threads,
            PreferCuda = preferCuda,
            Log = ctx.Info,
        };
    }
}
