namespace VallE.Server;

/// <summary>
/// Where <c>valle serve</c> gets its voices: <c>--voice NAME=FILE:TRANSCRIPT</c>, <c>--voice NAME=PRESET.npz</c>,
/// <c>--voice NAME=FILE</c> (a recording alone: e-c-k-e-r/vall-e, whose prompt has no transcript) and
/// <c>--voices-dir DIR</c> (where a transcript beside each recording stays required; e-c-k-e-r/vall-e ignores it). FILE is a WAV recording (encoded with the EnCodec encoder at startup) or EnCodec codes
/// <c>.npy</c> (int64 <c>[T, 8]</c>); a <c>.npz</c> is a VALL-E X voice preset (<see cref="ValleVoice.FromPreset"/>:
/// it carries its transcript's tokens and language). In a directory every <c>NAME.npz</c> is a preset voice, and
/// every <c>NAME.wav</c> or <c>NAME.npy</c> with a <c>NAME.txt</c> transcript beside it is a voice (both: the codes are
/// used); other files are ignored. A transcript language (VALL-E X: en, zh, ja or auto; <c>--voice-language</c>)
/// goes to <see cref="ValleVoice.FromWav(string, string, string?)"/>/<see cref="ValleVoice.FromCodes(string, string, string?)"/>, which judge
/// it. Errors are <see cref="ArgumentException"/>s (a malformed spec, a duplicate name, a bad language, a language
/// for a preset) and <see cref="InvalidInputException"/>s (a missing file or transcript).
/// </summary>
public static class VoiceSources
{
    /// <summary>
    /// Parses <c>NAME=PRESET.npz</c> (the part after '=' ends with <c>.npz</c>), <c>NAME=FILE</c> (no ':' after '=': a
    /// recording alone) or <c>NAME=FILE:TRANSCRIPT</c>: the
    /// name ends at the first '=', the file at the first ':' after it (a path with ':' in it goes through
    /// --voices-dir), the rest is the transcript. A transcript <c>@PATH</c> is read from that file.
    /// </summary>
    /// <param name="transcriptLanguage">VALL-E X: the transcript's language (en, zh, ja, auto); null = auto. Not for presets.</param>
    public static (string Name, ValleVoice Voice) Parse(string spec, string? transcriptLanguage = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int eq = spec.IndexOf('=');
        if (eq > 0 && IsPreset(spec[(eq + 1)..]))
        {
            string presetName = spec[..eq].Trim();
            CheckName(presetName, spec);
            return (presetName, Preset(spec[(eq + 1)..], presetName, transcriptLanguage));
        }
        int colon = eq < 0 ? -1 : spec.IndexOf(':', eq + 1);
        if (eq > 0 && colon < 0 && eq < spec.Length - 1)
        {
            // NAME=FILE: a recording alone, for e-c-k-e-r/vall-e (the library refuses it for the other families).
            string audioName = spec[..eq].Trim(), audio = spec[(eq + 1)..];
            CheckName(audioName, spec);
            return (audioName, AudioOnly(audio, audioName, transcriptLanguage));
        }
        if (eq <= 0 || colon < 0 || colon == eq + 1)
            throw new ArgumentException($"'{spec}' is not NAME=FILE:TRANSCRIPT (e.g. anna=anna.wav:\"Hello, I am Anna.\"), NAME=FILE (e-c-k-e-r/vall-e: the recording alone) or NAME=PRESET.npz", nameof(spec));
        string name = spec[..eq].Trim(), file = spec[(eq + 1)..colon], transcript = spec[(colon + 1)..];
        CheckName(name, spec);
        if (transcript.StartsWith('@')) transcript = ReadTranscript(transcript[1..]);
        if (string.IsNullOrWhiteSpace(transcript)) throw new ArgumentException($"voice '{name}': the transcript is empty", nameof(spec));
        return (name, Voice(file, transcript.Trim(), transcriptLanguage));
    }

    /// <summary>The voices of <paramref name="directory"/>, by name (ordinal order).</summary>
    /// <param name="transcriptLanguages">VALL-E X: transcript languages by voice name (others: auto).</param>
    public static IReadOnlyList<(string Name, ValleVoice Voice)> FromDirectory(string directory, IReadOnlyDictionary<string, string>? transcriptLanguages = null)
    {
        if (!Directory.Exists(directory)) throw new InvalidInputException($"{directory}: voices directory not found");
        var voices = new List<(string, ValleVoice)>();
        var names = Directory.EnumerateFiles(directory)
            .Where(f => Ext(f) is ".wav" or ".npy" or ".npz")
            .Select(f => Path.GetFileNameWithoutExtension(f))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);
        foreach (string name in names)
        {
            string npy = Path.Combine(directory, name + ".npy"), wav = Path.Combine(directory, name + ".wav");
            string npz = Path.Combine(directory, name + ".npz"), txt = Path.Combine(directory, name + ".txt");
            string? language = transcriptLanguages?.GetValueOrDefault(name);
            if (File.Exists(npz))
            {
                if (File.Exists(npy) || File.Exists(wav))
                    throw new InvalidInputException($"{npz}: voice '{name}' is both a preset and a recording ({name}.wav/{name}.npy): keep one");
                CheckName(name, npz);
                voices.Add((name, Preset(npz, name, language)));
                continue;
            }
            string audio = File.Exists(npy) ? npy : wav;
            if (!File.Exists(txt)) throw new InvalidInputException($"{audio}: no transcript {name}.txt beside it (a voice needs the words spoken in it)");
            CheckName(name, audio);
            string transcript = ReadTranscript(txt);
            if (string.IsNullOrWhiteSpace(transcript)) throw new InvalidInputException($"{txt}: the transcript is empty");
            voices.Add((name, Voice(audio, transcript.Trim(), language)));
        }
        if (voices.Count == 0) throw new InvalidInputException($"{directory}: no voices (NAME.npz presets, or NAME.wav or NAME.npy with NAME.txt beside it)");
        return voices;
    }

    private static string Ext(string path) => Path.GetExtension(path).ToLowerInvariant();

    private static bool IsPreset(string file) => file.EndsWith(".npz", StringComparison.OrdinalIgnoreCase);

    private static ValleVoice Preset(string file, string name, string? transcriptLanguage)
    {
        if (transcriptLanguage is not null)
            throw new ArgumentException($"voice '{name}' is a preset ({file}): it carries its own language; no transcript language", nameof(transcriptLanguage));
        if (!File.Exists(file)) throw new InvalidInputException($"{file}: voice preset not found");
        return ValleVoice.FromPreset(file);
    }

    private static ValleVoice AudioOnly(string file, string name, string? transcriptLanguage)
    {
        if (transcriptLanguage is not null)
            throw new ArgumentException($"voice '{name}' has no transcript ({file}): no transcript language", nameof(transcriptLanguage));
        if (!File.Exists(file)) throw new InvalidInputException($"{file}: voice file not found");
        return Ext(file) == ".npy" ? ValleVoice.FromCodes(file) : ValleVoice.FromWav(file);
    }

    private static ValleVoice Voice(string file, string transcript, string? transcriptLanguage)
    {
        if (!File.Exists(file)) throw new InvalidInputException($"{file}: voice file not found");
        return Ext(file) == ".npy" ? ValleVoice.FromCodes(file, transcript, transcriptLanguage) : ValleVoice.FromWav(file, transcript, transcriptLanguage);
    }

    private static string ReadTranscript(string path)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: transcript file not found");
        if (new FileInfo(path).Length > 64 * 1024) throw new InvalidInputException($"{path}: a transcript over 64 KiB is not the transcript of a few seconds of speech");
        return File.ReadAllText(path);
    }

    private static void CheckName(string name, string where)
    {
        if (name.Length is 0 or > 128 || name.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
            throw new ArgumentException($"'{where}': a voice name must be 1..128 characters without spaces or control characters", nameof(name));
    }
}
