using System.CommandLine;
using VallE.Cli.Commands;
using VallE.Runtime.Cuda;

namespace VallE.Cli;

/// <summary>
/// Builds the `valle` command tree and maps every outcome to the documented exit codes:
/// 0 success, 1 internal error, 2 usage error, 3 invalid input or missing native dependency, 130 interrupted.
/// No exception escapes as a raw trace; set VALLE_DEBUG=1 to see traces of internal errors.
/// </summary>
public static class CliApp
{
    public static RootCommand BuildRoot(CliContext ctx)
    {
        var root = new RootCommand("VallE.NET: native VALL-E / VALL-E X text-to-speech runtime.");
        root.Subcommands.Add(InspectCommand.Create(ctx));
        root.Subcommands.Add(ConvertCommand.Create(ctx));
        root.Subcommands.Add(GenerateCommand.Create(ctx));
        root.Subcommands.Add(PhonemizeCommand.Create(ctx));
        root.Subcommands.Add(EncodeCommand.Create(ctx));
        root.Subcommands.Add(DecodeCommand.Create(ctx));
        root.Subcommands.Add(SynthCommand.Create(ctx));
        root.Subcommands.Add(BenchCommand.Create(ctx));
        root.Subcommands.Add(ServeCommand.Create(ctx));
        return root;
    }

    public static int Run(string[] args, CliContext ctx)
    {
        var root = BuildRoot(ctx);
        ParseResult parse = root.Parse(args);
        var config = new InvocationConfiguration
        {
            Output = ctx.Out,
            Error = ctx.Err,
            EnableDefaultExceptionHandler = false,
        };
        bool helpOrVersion = parse.Action is System.CommandLine.Help.HelpAction
            || args.Contains("--version") && args.Length == 1;
        if (parse.Errors.Count > 0 && !helpOrVersion)
        {
            foreach (var error in parse.Errors) ctx.Error(error.Message);
            string cmd = parse.CommandResult.Command == root ? "valle" : $"valle {parse.CommandResult.Command.Name}";
            ctx.Err.WriteLine($"Try '{cmd} --help' for more information.");
            return ExitCodes.Usage;
        }
        return Guard(ctx, () => parse.Invoke(config));
    }

    /// <summary>
    /// Runs a command body and turns exceptions into exit codes with a one-line message. This is where every exit
    /// code is decided: <see cref="UsageException"/> 2 (the option groups translate library
    /// <see cref="ArgumentException"/>s into it where options are read; any other ArgumentException is a bug, 1);
    /// <see cref="InvalidInputException"/> and <see cref="NativeDependencyException"/> 3; a CUDA out-of-memory 3 and
    /// any other <see cref="CudaException"/> 1; cancellation 130; anything else 1.
    /// </summary>
    public static int Guard(CliContext ctx, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (UsageException e)
        {
            ctx.Error(e.Message);
            return ExitCodes.Usage;
        }
        catch (InvalidInputException e)
        {
            ctx.Error(e.Message);
            return ExitCodes.InvalidInput;
        }
        catch (CudaException e)
        {
            ctx.Error(e.Message);
            return e.IsOutOfMemory ? ExitCodes.InvalidInput : ExitCodes.InternalError;
        }
        catch (ValleException e)
        {
            ctx.Error(e.Message);
            return ExitCodes.InternalError;
        }
        catch (OperationCanceledException)
        {
            ctx.Error("interrupted");
            return ExitCodes.Cancelled;
        }
        catch (OutOfMemoryException)
        {
            ctx.Error("out of memory (input too large for this machine?)");
            return ExitCodes.InvalidInput;
        }
        catch (Exception e)
        {
            ctx.Error($"internal error: {e.GetType().Name}: {e.Message}");
            if (Environment.GetEnvironmentVariable("VALLE_DEBUG") == "1") ctx.Err.WriteLine(e);
            else ctx.Err.WriteLine("(this is a bug; set VALLE_DEBUG=1 for the stack trace and report it)");
            return ExitCodes.InternalError;
        }
    }
}
