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
}
