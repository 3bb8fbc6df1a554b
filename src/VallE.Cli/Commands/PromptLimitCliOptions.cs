using System.CommandLine;
using System.Globalization;
using VallE.Runtime.Audio;
using VallE.Runtime.Codec;

namespace VallE.Cli.Commands;

/// <summary>
/// <c>--max-prompt-seconds</c>: the longest voice prompt <c>synth</c> takes, as a WAV or as codes. A prompt is a few
/// seconds (3 s in the paper, at most 15 s in VALL-E X's documentation); a long one makes every AR step and NAR
/// pass slower and, unchecked, lets a tiny WAV with an absurd header ask for gigabytes. Checked from the WAV header
/// before any sample is read.
/// </summary>
internal sealed class PromptLimitCliOptions
{
    private readonly Option<double> _maxSeconds = new("--max-prompt-seconds")
    {
        HelpName = "SECONDS",
        DefaultValueFactory = _ => PromptAudio.DefaultMaxPromptSeconds,
        Description = $"Refuse prompts longer than this (default {PromptAudio.DefaultMaxPromptSeconds} s).",
    };

    public void AddTo(Command command) => command.Options.Add(_maxSeconds);

    public double Read(ParseResult parse)
    {
        double seconds = parse.GetValue(_maxSeconds);
        if (!(seconds > 0) || seconds > 3600)
            throw new UsageException($"--max-prompt-seconds {seconds.ToString(CultureInfo.InvariantCulture)} must be in (0, 3600]");
        return seconds;
    }

    /// <summary>Runs a prompt load or check, naming this option when the prompt is over the limit.</summary>
    public static T Enforce<T>(Func<T> load)
    {
        try { return load(); }
        catch (InvalidInputException e) when (e.Setting == "maxSeconds") { throw OptionErrors.WithFlag(e, " (--max-prompt-seconds)"); }
    }

    /// <summary><see cref="PromptAudio.CheckFrames"/>, naming this option.</summary>
    public static void CheckFrames(string path, int frames, double maxSeconds) =>
        Enforce(() => { PromptAudio.CheckFrames(path, frames, maxSeconds); return 0; });
}
