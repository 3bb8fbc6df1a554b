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
    /// <param name="SignalToExit">wall time from SIGINT to the exit (null: not interrupted).</param>
    /// <param name="CpuAfterSignal">CPU time (user + system, all threads) the command used from SIGINT to its exit:
    /// the work it did before it noticed, which, unlike the wall time, a loaded machine does not stretch. Exact where
    /// GNU time is installed, else what /proc showed last before the exit (a lower bound); null: not interrupted or
    /// unknown (no /proc).</param>
    public sealed record Result(int ExitCode, byte[] Stdout, string Err, TimeSpan Wall, long PeakRssKb, TimeSpan? SignalToExit,
        TimeSpan? CpuAfterSignal = null)
    {
        public string Out => System.Text.Encoding.UTF8.GetString(Stdout);
        public override string ToString() =>
            $"exit {ExitCode} after {Wall.TotalSeconds:F2} s, peak RSS {PeakRssKb / 1024.0:F0} MB" +
            (SignalToExit is { } s ? $", SIGINT {s.TotalSeconds:F2} s before the exit ({CpuAfterSignal?.TotalSeconds.ToString("F2") ?? "?"} CPU-s after it)" : "") +
            $"\n--- stdout ({Stdout.Length} bytes)\n" + (Stdout.Length < 4000 ? Out : "(long)") + $"\n--- stderr\n{Err}";
    }

    /// <summary>What <c>interruptWhen</c> sees of the running command.</summary>
    /// <param name="Err">its stderr so far.</param>
    /// <param name="Elapsed">wall time since it was started.</param>
    /// <param name="Cpu">CPU time (user + system, all threads) it has used; null where there is no /proc.</param>
    public sealed record Running(string Err, TimeSpan Elapsed, TimeSpan? Cpu);

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
    /// <param name="interruptWhen">sends SIGINT once this is true of the command as seen so far (polled every 20 ms).</param>
    /// <param name="valleDll">another build's valle.dll (default: the one beside the tests).</param>
    public static Result Run(string[] args, byte[]? stdin = null, TimeSpan? timeout = null,
        Func<Running, bool>? interruptWhen = null, IReadOnlyDictionary<string, string>? environment = null, string? valleDll = null)
    {
        string rssFile = Path.Combine(Path.GetTempPath(), $"valle-rss-{Guid.NewGuid():N}");
        bool timed = File.Exists(GnuTime);
        var command = new List<string>();
        // Peak RSS (KB), then the user and system CPU seconds of the whole run.
        if (timed) command.AddRange([GnuTime, "-f", "%M %U %S", "-o", rssFile]);
        if (interruptWhen is not null && SigintIgnoredHere())
        {
            // Started as a background job (`cmd &` in a script), this process ignores SIGINT and its children inherit
            // that, as valle rightly honours: reset it for the child (GNU env execs dotnet: same pid), or the
            // interrupt cannot be tested.
            if (!File.Exists(Env)) Assert.Ignore("SIGINT is ignored by the test process (a background job?) and there is no /usr/bin/env to reset it");
            command.AddRange([Env, "--default-signal=INT"]);
        }
        command.Add("dotnet");
        var psi = new ProcessStartInfo(command[0])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string a in command.Skip(1)) psi.ArgumentList.Add(a);
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
        int pid = 0;
        TimeSpan? cpuAtSignal = null, cpuSeen = null;
        while (!process.WaitForExit(20))
        {
            if (clock.Elapsed > limit)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"valle {string.Join(' ', args.Take(3))} ... did not finish within {limit.TotalSeconds} s; stderr so far:\n{err}");
            }
            if (interruptWhen is null) continue;
            if (pid == 0 && (pid = DotnetPid(process, timed)) == 0) continue;   // GNU time has not started it yet
            cpuSeen = CpuTime(pid) ?? cpuSeen;
            if (signalled is null)
            {
                string seen;
                lock (err) seen = err.ToString();
                if (interruptWhen(new Running(seen, clock.Elapsed, cpuSeen)))
                {
                    // The shell sends SIGINT to the foreground process group; here: the dotnet process itself.
                    cpuAtSignal = cpuSeen;
                    Interrupt(pid);
                    signalled = clock.Elapsed;
                }
            }
        }
        process.WaitForExit();
        TimeSpan wall = clock.Elapsed;
        stderrTask.Wait();
        byte[] stdout = stdoutTask.Result;
        long rss = -1;
        TimeSpan? cpuTotal = null;
        if (timed && File.Exists(rssFile))
        {
            // GNU time prints "Command exited with non-zero status N" (or "terminated by signal") before the numbers.
            string[] last = (File.ReadAllLines(rssFile).LastOrDefault(l => l.Trim().Length > 0) ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            if (last.Length == 3 && long.TryParse(last[0], out long kb)
                && double.TryParse(last[1], inv, out double user) && double.TryParse(last[2], inv, out double sys))
            {
                rss = kb;
                cpuTotal = TimeSpan.FromSeconds(user + sys);
            }
            File.Delete(rssFile);
        }
        TimeSpan? cpuAfter = signalled is null ? null : (cpuTotal ?? cpuSeen) - cpuAtSignal;
        return new Result(process.ExitCode, stdout, err.ToString(), wall, rss, signalled is { } s ? wall - s : null, cpuAfter);
    }

    /// <summary>User + system CPU time of process <paramref name="pid"/> (all its threads, live and exited), from
    /// /proc/PID/stat; null once it is gone or where there is no /proc.</summary>
    private static TimeSpan? CpuTime(int pid)
    {
        string stat;
        try { stat = File.ReadAllText($"/proc/{pid}/stat"); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        // "PID (COMM) STATE ..." where COMM may hold spaces: fields 14 (utime) and 15 (stime) count from after ')'.
        string[] f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        if (f.Length < 13 || !long.TryParse(f[11], out long utime) || !long.TryParse(f[12], out long stime)) return null;
        return TimeSpan.FromSeconds((utime + stime) / (double)ClockTicksPerSecond);
    }

    private const string Env = "/usr/bin/env";

    /// <summary>Whether SIGINT is ignored in this process (SigIgn in /proc/self/status), as children would inherit.</summary>
    private static bool SigintIgnoredHere()
    {
        try
        {
            string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
            return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (2 - 1))) != 0;
        }
        catch (IOException) { return false; }
    }

    private static readonly long ClockTicksPerSecond = OperatingSystem.IsLinux() ? sysconf(2 /* _SC_CLK_TCK */) : 100;

    [DllImport("libc")]
    private static extern long sysconf(int name);

    /// <summary>The dotnet process: under GNU time, time's only child (0 while time has not started it yet).</summary>
    private static int DotnetPid(Process process, bool timed)
    {
        if (!timed) return process.Id;
        try
        {
            string children = File.ReadAllText($"/proc/{process.Id}/task/{process.Id}/children").Trim();
            return children.Length > 0 && int.TryParse(children.Split(' ')[0], out int pid) ? pid : 0;
        }
        catch (IOException) { return 0; }
    }

    private static void Interrupt(int pid)
    {
        const int SIGINT = 2;
        if (kill(pid, SIGINT) != 0) Assert.Fail($"kill({pid}, SIGINT) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
