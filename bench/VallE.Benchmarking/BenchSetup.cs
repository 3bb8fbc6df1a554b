using System.Diagnostics;
using VallE.Runtime.Codec;
using VallE.Weights;
using VallE.Weights.NumPy;

namespace VallE.Benchmarking;

/// <summary>
/// What a bench run needs around the engine: the repository's Python scripts, a cached random-weight checkpoint
/// per preset, and seeded random inputs shared by every implementation.
/// </summary>
internal static class BenchSetup
{
    public static readonly string[] Presets = ["tiny", "small", "full", "ecker-small", "ecker"];

    /// <summary>Debian's interpreter carries torch; the PATH one may be a shim without it.</summary>
    public static string DefaultPython => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    /// <summary>$VALLE_BENCH_CACHE, else a folder under the system temp directory.</summary>
    public static string DefaultCacheDir =>
        Environment.GetEnvironmentVariable("VALLE_BENCH_CACHE") is { Length: > 0 } dir
            ? dir
            : Path.Combine(Path.GetTempPath(), "valle-bench");

    /// <summary>
    /// bench/reference of the checkout this binary was built from (or the current directory's): the PyTorch
    /// reference and checkpoint maker are scripts, not part of the build output.
    /// </summary>
    public static string? FindReferenceDir()
    {
        foreach (string? start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (string? dir = start; dir is not null; dir = Path.GetDirectoryName(dir))
            {
                string candidate = Path.Combine(dir, "bench", "reference");
                if (File.Exists(Path.Combine(candidate, "valle_reference.py"))) return candidate;
            }
        }
        return null;
    }

    /// <summary>The cached checkpoint of a preset, made on first use with make_bench_checkpoint.py.</summary>
    public static string EnsureCheckpoint(IBenchLog log, string preset, string cacheDir, string python, string referenceDir,
        CancellationToken cancel, bool narLen = false)
    {
        bool ecker = EckerBench.IsEckerPreset(preset);
        narLen &= ecker;
        string path = Path.Combine(cacheDir, ecker ? $"bench-{preset}{(narLen ? "-narlen" : "")}.sft" : $"bench-{preset}.pt");
        if (File.Exists(path)) return path;
        Directory.CreateDirectory(cacheDir);
        log.Info($"making random-weight '{preset}' checkpoint {path} (once; cached)");
        var (dim, heads, layers) = EckerBench.Size(preset);
        string I(int v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[] args = ecker
            ? [Path.Combine(referenceDir, "ecker_reference.py"), "make", "--dim", I(dim), "--heads", I(heads), "--layers", I(layers), "--out", path, .. (narLen ? new[] { "--narlen" } : [])]
            : [Path.Combine(referenceDir, "make_bench_checkpoint.py"), "--preset", preset, "--out", path];
        var (code, _, err) = PythonProcess.Run(python, args, 1, cancel);
        if (code != 0 || !File.Exists(path))
            throw new NativeDependencyException(
                $"could not make the bench checkpoint with {python} (needs torch): {PythonProcess.LastLine(err)}");
        return path;
    }

    /// <summary>
    /// Seeded random text tokens <c>[textLen]</c> (&lt;bos&gt;, ids in 3..vocab-1, &lt;eos&gt;) and prompt codes
    /// <c>[promptFrames, quantizers]</c>: random weights make their content irrelevant, only the shapes matter.
    /// </summary>
    public static (long[] Text, AudioCodes Prompt) RandomInputs(int textLen, int promptFrames, int textVocab, int quantizers,
        int audioVocab, ulong seed)
    {
        // The sampler's counter-based uniforms: a pure function of (seed, n), stable across .NET versions.
        ulong n = 0;
        double Next() => Runtime.Sampling.TokenSampler.Uniform(seed, n++, 0);
        var text = new long[textLen];
        for (int i = 0; i < textLen; i++) text[i] = 3 + (long)(Next() * (textVocab - 3));
        text[0] = 1;
        text[^1] = 2;
        var prompt = new long[promptFrames * quantizers];   // frame-major, drawn in the same order as before
        for (int i = 0; i < prompt.Length; i++) prompt[i] = (long)(Next() * audioVocab);
        return (text, new AudioCodes(prompt, promptFrames, quantizers));
    }

    public static void WriteInputs(string folder, long[] text, AudioCodes prompt)
    {
        Npy.WriteInt64(Path.Combine(folder, "text_tokens.npy"), text, text.Length);
        Npy.WriteInt64(Path.Combine(folder, "prompt_codes.npy"), prompt.Span, prompt.Frames, prompt.Codebooks);
    }
}

/// <summary>Runs a Python script to completion (cancellable), capturing its output.</summary>
internal static class PythonProcess
{
    public static (int Code, string Out, string Err) Run(string python, IEnumerable<string> args, int threads,
        CancellationToken cancel)
    {
        var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        // Torch's OpenMP pool: as many threads as the engine gets, never the machine's whole count by default.
        psi.Environment["OMP_NUM_THREADS"] = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new NativeDependencyException($"could not start {python}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new NativeDependencyException($"could not start {python}: {e.Message}");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            try
            {
                process.WaitForExitAsync(cancel).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }
            return (process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
        }
    }

    public static string LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "(no output)";
}
