using System.CommandLine;
using System.Globalization;
using VallE.Runtime.Models;
using VallE.Runtime.Sampling;

namespace VallE.Cli.Commands;

/// <summary>
/// The sampler options of <c>valle generate</c> and <c>valle synth</c>: names and defaults are upstream infer.py's;
/// out-of-range values are usage errors (exit 2), judged by <see cref="SamplingOptions.Validate"/> alone. Also
/// <c>--max-duration</c>, the AR's frame budget.
/// </summary>
internal sealed class SamplingCliOptions
{

    private readonly Option<int> _topK = new("--top-k") { HelpName = "K", DefaultValueFactory = _ => -100, Description = "Keep the K most likely tokens (1 = greedy, <= 0 = off; upstream default -100)." };
    private readonly Option<float> _topP = new("--top-p") { HelpName = "P", DefaultValueFactory = _ => 1f, Description = "Nucleus sampling threshold, in [0, 1] (1 = off)." };
    private readonly Option<float> _temperature = new("--temperature") { HelpName = "T", DefaultValueFactory = _ => 1f, Description = "Sampling temperature (0 = greedy)." };
    private readonly Option<float> _minP = new("--min-p") { HelpName = "P", DefaultValueFactory = _ => 0f, Description = "Drop tokens below P times the top probability, in [0, 1] (0 = off)." };
    private readonly Option<float> _repetition = new("--repetition-penalty") { HelpName = "R", DefaultValueFactory = _ => 1f, Description = "Penalty for recently generated tokens (1 = off)." };
    private readonly Option<int> _repetitionWindow = new("--repetition-window") { HelpName = "N", DefaultValueFactory = _ => 0, Description = "How many recent tokens the repetition penalty looks at." };
    private readonly Option<ulong?> _seed = new("--seed") { HelpName = "S", Description = "Seed of the sampler's RNG (default: random)." };
    private readonly Option<double?> _maxDuration;

    /// <param name="maxDurationScope">What one --max-duration budget covers, for the help text (e.g. " per utterance").</param>
    public SamplingCliOptions(string maxDurationScope = "")
    {
        _maxDuration = new("--max-duration")
        {
            HelpName = "SECONDS",
            Description = $"Stop the AR after this much generated audio{maxDurationScope} (75 frames per second).",
        };
    }

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { _topK, _topP, _temperature, _minP, _repetition, _repetitionWindow, _seed, _maxDuration }) command.Options.Add(o);
    }

    /// <summary>The flag of each <see cref="SamplingOptions"/> property, for the messages of its check.</summary>
    private static readonly Dictionary<string, string> Flags = new()
    {
        [nameof(SamplingOptions.Temperature)] = "--temperature",
        [nameof(SamplingOptions.TopP)] = "--top-p",
        [nameof(SamplingOptions.MinP)] = "--min-p",
        [nameof(SamplingOptions.RepetitionPenalty)] = "--repetition-penalty",
        [nameof(SamplingOptions.RepetitionWindow)] = "--repetition-window",
        ["MaxDuration"] = "--max-duration",
    };

    public SamplingOptions Read(ParseResult parse)
    {
        var s = new SamplingOptions
        {
            TopK = parse.GetValue(_topK), TopP = parse.GetValue(_topP), Temperature = parse.GetValue(_temperature),
            MinP = parse.GetValue(_minP), RepetitionPenalty = parse.GetValue(_repetition),
            RepetitionWindow = parse.GetValue(_repetitionWindow), Seed = parse.GetValue(_seed),
        };
        try
        {
            s.Validate();
        }
        catch (ArgumentException e)
        {
            throw OptionErrors.ToUsage(e, Flags);
        }
        return s;
    }

    /// <summary>Whether --repetition-window was on the command line (e-c-k-e-r/vall-e has no window: it is refused there).</summary>
    public bool RepetitionWindowGiven(ParseResult parse) => parse.GetResult(_repetitionWindow) is { Implicit: false };

    /// <summary>--max-duration as a frame budget, or null for the model's own limit.</summary>
    public int? MaxFrames(ParseResult parse)
    {
        if (parse.GetValue(_maxDuration) is not { } seconds) return null;
        try
        {
            return GenerationRequest.MaxFramesFor(seconds);
        }
        catch (ArgumentException e)
        {
            throw OptionErrors.ToUsage(e, Flags);
        }
    }
}
