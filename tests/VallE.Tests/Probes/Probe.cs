using VallE.Tests.Support;

namespace VallE.Tests.Probes;

/// <summary>
/// One run of the real CLI on a bad or extreme input, and what a careful command-line tool owes its user for it:
/// the documented exit code, one `valle: error:` line that says what is wrong, no stack trace, no file left behind
/// in the output folder, and bounded time and memory.
/// </summary>
internal sealed class Probe : IDisposable
{
    /// <summary>The output folder: it holds only what the probe put there, unless a command succeeds.</summary>
    public TempDir Dir { get; } = new();

    public string File(string name) => Dir.File(name);

    public ValleProcess.Result Run(string[] args, byte[]? stdin = null, double timeoutSeconds = 60,
        Func<ValleProcess.Running, bool>? interruptWhen = null, IReadOnlyDictionary<string, string>? environment = null, string? valleDll = null) =>
        ValleProcess.Run(args, stdin, TimeSpan.FromSeconds(timeoutSeconds), interruptWhen, environment, valleDll);

    /// <summary>Asserts a clean failure; returns the error line.</summary>
    /// <param name="message">text the error line must contain (case-insensitive).</param>
    /// <param name="maxSeconds">wall-time bound of the whole run, start-up included.</param>
    /// <param name="maxRssMb">peak resident memory bound (checked where GNU time is installed).</param>
    public string Fails(ValleProcess.Result r, int exitCode, string message, double maxSeconds = 20, double maxRssMb = 1024)
    {
        Assert.That(r.ExitCode, Is.EqualTo(exitCode), r.ToString());
        string[] lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string[] errors = lines.Where(l => l.StartsWith("valle: error:", StringComparison.Ordinal)).ToArray();
        Assert.That(errors, Has.Length.EqualTo(1), "exactly one error line\n" + r);
        Assert.That(errors[0], Does.Contain(message).IgnoreCase, r.ToString());
        Assert.That(r.Err, Does.Not.Contain("   at ").And.Not.Contain("Exception:").And.Not.Contain("internal error"), "no trace\n" + r);
        Assert.That(Leftovers(), Is.Empty, "files left in the output folder\n" + r);
        Bounded(r, maxSeconds, maxRssMb);
        return errors[0];
    }

    public static void Bounded(ValleProcess.Result r, double maxSeconds, double maxRssMb)
    {
        Assert.That(r.Wall.TotalSeconds, Is.LessThan(maxSeconds), "time bound\n" + r);
        if (r.PeakRssKb >= 0) Assert.That(r.PeakRssKb / 1024.0, Is.LessThan(maxRssMb), "memory bound (MB)\n" + r);
    }

    /// <summary>Files and folders in the output folder that the probe did not create itself.</summary>
    public IReadOnlyList<string> Leftovers() =>
        Directory.EnumerateFileSystemEntries(Dir.Path).Select(Path.GetFileName).Where(n => !_owned.Contains(n!)).ToList()!;

    private readonly HashSet<string> _owned = [];

    /// <summary>Writes an input file into the output folder (it is not a leftover).</summary>
    public string Input(string name, byte[] bytes)
    {
        System.IO.File.WriteAllBytes(File(name), bytes);
        _owned.Add(name);
        return File(name);
    }

    public string Input(string name, string text) => Input(name, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>Marks an entry the probe made some other way as its own.</summary>
    public string Own(string name)
    {
        _owned.Add(name);
        return File(name);
    }

    public void Dispose() => Dir.Dispose();
}
