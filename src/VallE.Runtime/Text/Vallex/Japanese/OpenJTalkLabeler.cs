using System.Diagnostics;
using System.Text;

namespace VallE.Runtime.Text.Vallex.Japanese;

/// <summary>
/// One word of OpenJTalk's text analysis: its surface, its reading in katakana (<c>read</c>, null when it has none),
/// its pronunciation (<c>pron</c>: long vowels as ー, particles as said, numbers' sound changes; null when none) and its
/// part of speech (the first three fields, e.g. <c>名詞,数,*</c>).
/// </summary>
internal readonly record struct OpenJTalkWord(string Surface, string? Reading, string? Pronunciation = null, string PartOfSpeech = "");

/// <summary>
/// OpenJTalk's full-context labels for one run of Japanese text, as pyopenjtalk 0.3.0's <c>extract_fullcontext</c>
/// gives them (text2mecab, MeCab over naist-jdic, the NJD rules, njd2jpcommon, JPCommon_make_label: the same
/// OpenJTalk 1.11 code in both). Debian ships OpenJTalk only as the <c>open_jtalk</c> program (no shared library), so
/// this runs it once per text: it reads one line from stdin and, with <c>-ot</c>, writes its trace, whose
/// <c>[Output label]</c> section holds the labels (after the HTS timings). The program refuses to start without an
/// HTS voice and synthesises the speech (discarded) before writing the trace; <c>-r</c> (speed) makes that cheaper
/// and changes only the timings. The same trace's <c>[Text analysis result]</c> section gives the words and their
/// readings (<see cref="ExtractWords"/>), which the e-c-k-e-r front end uses to read kanji.
/// <para>
/// Lookup: <c>$VALLE_OPENJTALK_BIN</c> else <c>open_jtalk</c> on PATH; dictionary <c>$VALLE_OPENJTALK_DIC</c> else
/// Debian's naist-jdic; voice <c>$VALLE_OPENJTALK_VOICE</c> else Debian's nitech-jp-atr503-m001.
/// </para>
/// </summary>
internal sealed class OpenJTalkLabeler
{
    public const string BinaryEnvVar = "VALLE_OPENJTALK_BIN";
    public const string DictionaryEnvVar = "VALLE_OPENJTALK_DIC";
    public const string VoiceEnvVar = "VALLE_OPENJTALK_VOICE";
    public const string DefaultDictionary = "/var/lib/mecab/dic/open-jtalk/naist-jdic";
    public const string DefaultVoice = "/usr/share/hts-voice/nitech-jp-atr503-m001/nitech_jp_atr503_m001.htsvoice";

    public const string InstallHint =
        "install it (Debian/Ubuntu: apt-get install open-jtalk open-jtalk-mecab-naist-jdic hts-voice-nitech-jp-atr503-m001; " +
        $"./build.sh deps does) or set {BinaryEnvVar}, {DictionaryEnvVar} and {VoiceEnvVar}";

    /// <summary>
    /// open_jtalk reads one line into a 1024-byte buffer and text2mecab writes into another of 1024 bytes, turning
    /// every ASCII character into a 3-byte full-width one. Longer text would be cut (or overflow), so it is refused.
    /// </summary>
    public const int MaxExpandedBytes = 1000;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public string BinaryPath { get; }
    public string DictionaryPath { get; }
    public string VoicePath { get; }

    public OpenJTalkLabeler(string binaryPath, string dictionaryPath, string voicePath)
    {
        BinaryPath = binaryPath;
        DictionaryPath = dictionaryPath;
        VoicePath = voicePath;
    }

    private static readonly Lazy<(OpenJTalkLabeler? Labeler, string? Why)> Default = new(() =>
    {
        try { return (Locate(), null); }
        catch (NativeDependencyException e) { return (null, e.Message); }
    });

    /// <summary>The labeler found from the environment and Debian's paths, located once per process.</summary>
    /// <exception cref="NativeDependencyException">open_jtalk, its dictionary or its voice is missing.</exception>
    public static OpenJTalkLabeler Shared =>
        Default.Value.Labeler ?? throw new NativeDependencyException(Default.Value.Why!);

    /// <summary>Why <see cref="Shared"/> is unusable, or null when it is usable.</summary>
    public static string? UnavailableReason => Default.Value.Why;

    /// <exception cref="NativeDependencyException">open_jtalk, its dictionary or its voice is missing.</exception>
    public static OpenJTalkLabeler Locate()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
            throw new NativeDependencyException("Japanese text needs the OpenJTalk program (open_jtalk), which VallE.NET runs on Linux only");

        string? binary = Environment.GetEnvironmentVariable(BinaryEnvVar);
        if (string.IsNullOrEmpty(binary))
        {
            binary = FindOnPath("open_jtalk")
                ?? throw new NativeDependencyException($"Japanese text needs OpenJTalk: the program open_jtalk is not on PATH; {InstallHint}");
        }
        else if (!File.Exists(binary))
        {
            throw new NativeDependencyException($"Japanese text needs OpenJTalk: {BinaryEnvVar}={binary} does not exist; {InstallHint}");
        }

        string dictionary = FromEnv(DictionaryEnvVar) ?? DefaultDictionary;
        if (!File.Exists(Path.Combine(dictionary, "sys.dic")))
            throw new NativeDependencyException($"Japanese text needs OpenJTalk's naist-jdic dictionary: no sys.dic in {dictionary}; {InstallHint}");

        string voice = FromEnv(VoiceEnvVar) ?? DefaultVoice;
        if (!File.Exists(voice))
            throw new NativeDependencyException($"Japanese text needs an HTS voice for open_jtalk (it refuses to start without one): {voice} does not exist; {InstallHint}");

        return new OpenJTalkLabeler(Path.GetFullPath(binary), dictionary, voice);
    }

    private static string? FromEnv(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    private static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            if (dir.Length == 0) continue;
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>
    /// The full-context labels of <paramref name="text"/> (one run of Japanese characters: no line breaks), from the
    /// leading <c>sil</c> to the trailing one. Empty when OpenJTalk finds nothing to say (two labels or fewer: the
    /// program then writes no trace).
    /// </summary>
    /// <exception cref="InvalidInputException">The text is too long for open_jtalk's buffers.</exception>
    /// <exception cref="NativeDependencyException">open_jtalk failed or gave an unreadable trace.</exception>
    public IReadOnlyList<string> ExtractFullContext(string text)
    {
        var (trace, errors, exitCode) = RunTrace(text);
        var labels = ParseTrace(trace);
        if (labels is not null) return labels;
        if (NothingToSay(errors, exitCode)) return [];
        throw new NativeDependencyException(
            $"OpenJTalk ({BinaryPath} -x {DictionaryPath} -m {VoicePath}) gave no labels (exit code {exitCode}): {errors.Trim()}");
    }

    /// <summary>
    /// The words of <paramref name="text"/> as OpenJTalk's text analysis leaves them (MeCab over naist-jdic, then the
    /// NJD rules): surface and reading (the <c>read</c> field, katakana spelling such as トウキョウ; not <c>pron</c>,
    /// the pronunciation トーキョー). Empty when OpenJTalk finds nothing to say. Same limits as
    /// <see cref="ExtractFullContext"/>. The e-c-k-e-r front end reads kanji with it (its pykakasi stand-in).
    /// </summary>
    /// <exception cref="InvalidInputException">The text is too long for open_jtalk's buffers.</exception>
    /// <exception cref="NativeDependencyException">open_jtalk failed or gave an unreadable trace.</exception>
    public IReadOnlyList<OpenJTalkWord> ExtractWords(string text)
    {
        var (trace, errors, exitCode) = RunTrace(text);
        var words = ParseWords(trace);
        if (words is not null) return words;
        if (NothingToSay(errors, exitCode)) return [];
        throw new NativeDependencyException(
            $"OpenJTalk ({BinaryPath} -x {DictionaryPath} -m {VoicePath}) gave no text analysis (exit code {exitCode}): {errors.Trim()}");
    }

    // open_jtalk writes no trace and fails this way when the text has nothing to synthesise (only symbols).
    private static bool NothingToSay(string errors, int exitCode) =>
        exitCode != 0 && errors.Contains("waveform cannot be synthesized", StringComparison.Ordinal);

    // Runs open_jtalk on one line; returns its trace (stdout), stderr and exit code.
    private (string Trace, string Errors, int ExitCode) RunTrace(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Contains('\n') || text.Contains('\r'))
            throw new ArgumentException("one line of text expected", nameof(text));
        int expanded = 0;
        foreach (var rune in text.EnumerateRunes()) expanded += rune.IsAscii ? 3 : rune.Utf8SequenceLength;
        if (expanded > MaxExpandedBytes)
        {
            throw new InvalidInputException(
                $"Japanese text without punctuation is too long for OpenJTalk ({text.Length} characters, {expanded} bytes " +
                $"after its full-width conversion; at most {MaxExpandedBytes}): split it with punctuation (、。)");
        }

        var start = new ProcessStartInfo(BinaryPath)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = Utf8,
            StandardOutputEncoding = Utf8,
            StandardErrorEncoding = Utf8,
        };
        foreach (var arg in new[] { "-x", DictionaryPath, "-m", VoicePath, "-r", "20", "-ot", "/dev/stdout" })
            start.ArgumentList.Add(arg);

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new NativeDependencyException($"cannot run OpenJTalk ({BinaryPath}): {e.Message}; {InstallHint}", e);
        }

        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            // One line, no newline: fgets stops at end of input, as pyopenjtalk's text has no newline either.
            process.StandardInput.Write(text);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The program exited before reading (bad voice or dictionary): its stderr says why.
        }

        if (!process.WaitForExit(Timeout))
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw new NativeDependencyException($"OpenJTalk ({BinaryPath}) did not finish within {Timeout.TotalSeconds:0} s");
        }
        process.WaitForExit();
        return (stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult(), process.ExitCode);
    }

    /// <summary>
    /// The words of a trace's <c>[Text analysis result]</c> section (NJD nodes, one CSV line each: surface, then 12
    /// fields: part of speech ×4, conjugation ×2, base form, read, pron, accent, chain rule, chain flag); null without
    /// one. A reading or pronunciation of <c>*</c> is null.
    /// </summary>
    internal static List<OpenJTalkWord>? ParseWords(string trace)
    {
        const string Heading = "[Text analysis result]";
        int at = trace.IndexOf(Heading, StringComparison.Ordinal);
        if (at < 0) return null;
        var words = new List<OpenJTalkWord>();
        using var reader = new StringReader(trace[(at + Heading.Length)..]);
        reader.ReadLine(); // the rest of the heading's line
        for (string? line = reader.ReadLine(); !string.IsNullOrEmpty(line); line = reader.ReadLine())
        {
            // The surface is counted from the right: the 12 fields after it never hold a comma, the surface might.
            var fields = line.Split(',');
            if (fields.Length < 13) throw new NativeDependencyException($"unexpected line in OpenJTalk's text analysis: '{line}'");
            string surface = string.Join(',', fields[..^12]);
            string read = fields[^5], pron = fields[^4];
            words.Add(new OpenJTalkWord(surface, read == "*" ? null : read, pron == "*" ? null : pron, string.Join(',', fields[^12..^9])));
        }
        return words;
    }

    /// <summary>The label names of a trace's <c>[Output label]</c> section (lines "start end label"); null without one.</summary>
    internal static List<string>? ParseTrace(string trace)
    {
        int at = trace.IndexOf("[Output label]", StringComparison.Ordinal);
        if (at < 0) return null;
        var labels = new List<string>();
        using var reader = new StringReader(trace[(at + "[Output label]".Length)..]);
        reader.ReadLine(); // the rest of the heading's line
        for (string? line = reader.ReadLine(); !string.IsNullOrEmpty(line); line = reader.ReadLine())
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 3) throw new NativeDependencyException($"unexpected line in OpenJTalk's label trace: '{line}'");
            labels.Add(fields[2]);
        }
        return labels;
    }
}
