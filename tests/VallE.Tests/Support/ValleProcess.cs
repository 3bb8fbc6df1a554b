using System.Diagnostics;
using System.Runtime.InteropServices;

namespace VallE.Tests.Support;

/// <summary>
/// Runs the real `valle` in a child process, as a user's shell would: what only a process shows (an abort of the
/// runtime, a signal, the exit code the shell sees, bytes on stdout, peak memory) is visible here, unlike in
/// <see cref="CliRunner"/>. Peak resident memory comes from GNU time (<c>/usr/bin/time -f %M</c>) when it is
/// installed (build.sh installs it), else it reads as -1.
/// </summary>
public static class ValleProcess
{
    public sealed record Result(int ExitCode, byte[] Stdout, string Err, TimeSpan Wall, long PeakRssKb, TimeSpan? SignalToExit)
    {
        public string Out => System.Text.Encoding.UTF8.GetString(Stdout);
        public override string ToString() =>
            $"exit {ExitCode} after {Wall.TotalSeconds:F2} s, peak RSS {PeakRssKb / 1024.0:F0} MB\n--- stdout ({Stdout.Length} bytes)\n" +
            (Stdout.Length < 4000 ? Out : "(long)") + $"\n--- stderr\n{Err}";
    }

    public static string ValleDll
    {
        get
        {
            string dll = Path.Combine(AppContext.BaseDirectory, "valle.dll");
            if (!File.Exists(dll)) Assert.Ignore($"{dll} is not built beside the tests");
            return dll;
        }
    }

    private const string GnuTime = "/usr/bin/time";

    /// <summary>Runs <c>valle ARGS</c>; kills it (and fails the test) after <paramref name="timeout"/>.</summary>
    /// <param name="stdin">bytes fed to standard input (closed afterwards); null: an empty stdin.</param>
    /// <param name="interruptWhen">sends SIGINT once this is true of the stderr seen so far (polled every 20 ms).</param>
    /// <param name="valleDll">another build's valle.dll (default: the one beside the tests).</param>
    public static Result Run(string[] args, byte[]? stdin = null, TimeSpan? timeout = null,
        Func<string, bool>? interruptWhen = null, IReadOnlyDictionary<string, string>? environment = null, string? valleDll = null)
    {
        string rssFile = Path.Combine(Path.GetTempPath(), $"valle-rss-{Guid.NewGuid():N}");
        bool timed = File.Exists(GnuTime);
        var psi = new ProcessStartInfo(timed ? GnuTime : "dotnet")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        if (timed) foreach (string a in new[] { "-f", "%M", "-o", rssFile, "dotnet" }) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(valleDll ?? ValleDll);
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment.Remove("VALLE_DEBUG");
        if (environment is not null) foreach (var (k, v) in environment) psi.Environment[k] = v;

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(psi)!;
        var stdoutTask = Task.Run(() => { using var ms = new MemoryStream(); process.StandardOutput.BaseStream.CopyTo(ms); return ms.ToArray(); });
        var err = new System.Text.StringBuilder();
        var stderrTask = Task.Run(() =>
        {
            var buffer = new char[4096];
            int n;
            while ((n = process.StandardError.Read(buffer, 0, buffer.Length)) > 0) lock (err) err.Append(buffer, 0, n);
        });
        try
        {
            if (stdin is not null) process.StandardInput.BaseStream.Write(stdin);
            process.StandardInput.Close();
        }
        catch (IOException) { }   // the command exited without reading its input

        TimeSpan limit = timeout ?? TimeSpan.FromSeconds(60);
        TimeSpan? signalled = null;
        while (!process.WaitForExit(20))
        {
            if (clock.Elapsed > limit)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"valle {string.Join(' ', args.Take(3))} ... did not finish within {limit.TotalSeconds} s; stderr so far:\n{err}");
            }
            if (signalled is null && interruptWhen is not null)
            {
                string seen;
                lock (err) seen = err.ToString();
                if (interruptWhen(seen))
                {
                    // The shell sends SIGINT to the foreground process group; here: the dotnet process itself.
                    Interrupt(DotnetPid(process, timed));
                    signalled = clock.Elapsed;
                }
            }
        }
        process.WaitForExit();
        TimeSpan wall = clock.Elapsed;
        stderrTask.Wait();
        byte[] stdout = stdoutTask.Result;
        long rss = -1;
        if (timed && File.Exists(rssFile))
        {
            // GNU time prints "Command exited with non-zero status N" before the number when the command failed.
            string last = File.ReadAllLines(rssFile).LastOrDefault(l => l.Trim().Length > 0) ?? "";
            if (long.TryParse(last.Trim(), out long kb)) rss = kb;
            File.Delete(rssFile);
        }
        return new Result(process.ExitCode, stdout, err.ToString(), wall, rss, signalled is { } s ? wall - s : null);
    }

    /// <summary>Under GNU time the dotnet process is time's only child.</summary>
    private static int DotnetPid(Process process, bool timed)
    {
        if (!timed) return process.Id;
        string children = $"/proc/{process.Id}/task/{process.Id}/children";
        for (int i = 0; i < 100; i++)
        {
            if (File.Exists(children) && File.ReadAllText(children).Trim() is { Length: > 0 } text && int.TryParse(text.Split(' ')[0], out int pid))
                return pid;
            Thread.Sleep(10);
        }
        return process.Id;
    }

    private static void Interrupt(int pid)
    {
        const int SIGINT = 2;
        if (kill(pid, SIGINT) != 0) Assert.Fail($"kill({pid}, SIGINT) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
