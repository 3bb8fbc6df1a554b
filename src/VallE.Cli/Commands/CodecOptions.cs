using System.CommandLine;
using VallE.Runtime.Onnx;

namespace VallE.Cli.Commands;

/// <summary>Options shared by the commands that run EnCodec through ONNX Runtime (encode, decode, synth).</summary>
internal sealed class CodecOptions
{
    public Option<string?> OnnxRuntime { get; } = new("--onnxruntime")
    {
        HelpName = "PATH",
        Description = "Path of libonnxruntime (default: $VALLE_ONNXRUNTIME, the build's .deps copy, then the system).",
    };

    public Option<int> Threads { get; } = new("--codec-threads")
    {
        HelpName = "N",
        Description = "ONNX Runtime intra-op threads for the codec (0: one per core).",
        DefaultValueFactory = _ => 0,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(OnnxRuntime);
        command.Options.Add(Threads);
    }

    public OnnxSessionOptions Read(ParseResult parse, CliContext ctx, bool preferCuda = false)
    {
        int threads = parse.GetValue(Threads);
        if (threads is < 0 or > EngineCliOptions.MaxThreads)
            throw new UsageException($"--codec-threads {threads} must be 0..{EngineCliOptions.MaxThreads} (0 = one per core)");
        return new OnnxSessionOptions
        {
            IntraOpThreads = threads,
            LibraryPath = parse.GetValue(OnnxRuntime),
            PreferCuda = preferCuda,
            Log = ctx.Info,
        };
    }
}
