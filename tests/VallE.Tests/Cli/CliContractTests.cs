using VallE.Cli;
using VallE.Runtime.Cuda;
using VallE.Tests.Support;

namespace VallE.Tests.Cli;

public class CliContractTests
{
    [Test]
    public void UnknownCommandIsUsageError()
    {
        var r = CliRunner.Run("no-such-command");
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(r.Err, Does.Contain("valle: error:"));
    }

    [Test]
    public void HelpSucceeds()
    {
        var r = CliRunner.Run("--help");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Contain("inspect"));
    }

    /// <summary>The one place exceptions become exit codes: library types carry none, the CLI decides.</summary>
    [Test]
    public void GuardMapsExceptionsToExitCodes()
    {
        var cases = new (Exception Thrown, int Exit)[]
        {
            (new UsageException("u"), ExitCodes.Usage),
            (new InvalidInputException("i"), ExitCodes.InvalidInput),
            (new NativeDependencyException("n"), ExitCodes.InvalidInput),
            (new CudaException("oom", 2, isOutOfMemory: true), ExitCodes.InvalidInput),
            (new CudaException("fault", 700), ExitCodes.InternalError),
            (new OperationCanceledException(), ExitCodes.Cancelled),
            // An ArgumentException that escapes a command body (not translated where options are read) is a bug.
            (new ArgumentException("deep", "x"), ExitCodes.InternalError),
            (new InvalidOperationException("bug"), ExitCodes.InternalError),
        };
        foreach (var (thrown, exit) in cases)
        {
            var err = new StringWriter();
            int code = CliApp.Guard(CliContext.ForTest(TextWriter.Null, err), () => throw thrown);
            Assert.That(code, Is.EqualTo(exit), $"{thrown.GetType().Name}: {err}");
            Assert.That(err.ToString(), Does.StartWith("valle: error: "));
        }
    }
}
