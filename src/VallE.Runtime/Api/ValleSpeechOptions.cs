using Microsoft.Extensions.AI;

namespace VallE;

#pragma warning disable MEAI001 // ITextToSpeechClient and its types are experimental in Microsoft.Extensions.AI 11.

/// <summary>
/// <see cref="TextToSpeechOptions"/> with VALL-E's sampling settings as typed properties. Each one left null falls
/// back to the same setting in <see cref="TextToSpeechOptions.AdditionalProperties"/> (keys <c>top_k</c>,
/// <c>top_p</c>, <c>temperature</c>, <c>min_p</c>, <c>repetition_penalty</c>, <c>repetition_window</c>, <c>seed</c>,
/// <c>max_duration</c>, <c>split_sentences</c>, <c>best_of</c>, <c>prompt_mode</c>; e-c-k-e-r/vall-e: <c>mode</c>,
/// <c>length</c>, <c>demask_steps</c>, <c>cfg_strength</c>, <c>cfg_rescale</c>, <c>nar_temperature</c>, <c>min_ar_temperature</c>,
/// <c>min_nar_temperature</c>, <c>repetition_penalty_decay</c>, <c>length_penalty</c>), then to upstream's default. Plain <see cref="TextToSpeechOptions"/>
/// with those keys works the same, e.g. through a pipeline that only knows the base type.
/// </summary>
public class ValleSpeechOptions : TextToSpeechOptions
{
    public ValleSpeechOptions() { }

    /// <summary>A shallow copy of <paramref name="other"/>.</summary>
    protected ValleSpeechOptions(ValleSpeechOptions? other) : base(other)
    {
        if (other is null) return;
        TopK = other.TopK;
        TopP = other.TopP;
        Temperature = other.Temperature;
        MinP = other.MinP;
        RepetitionPenalty = other.RepetitionPenalty;
        RepetitionWindow = other.RepetitionWindow;
        Seed = other.Seed;
        MaxDuration = other.MaxDuration;
        SplitSentences = other.SplitSentences;
        BestOf = other.BestOf;
        PromptMode = other.PromptMode;
        Mode = other.Mode;
        Length = other.Length;
        DemaskSteps = other.DemaskSteps;
        CfgStrength = other.CfgStrength;
        CfgRescale = other.CfgRescale;
        NarTemperature = other.NarTemperature;
        MinArTemperature = other.MinArTemperature;
        MinNarTemperature = other.MinNarTemperature;
        RepetitionPenaltyDecay = other.RepetitionPenaltyDecay;
        LengthPenalty = other.LengthPenalty;
        Progress = other.Progress;
    }

    /// <summary>Top-k (<c>top_k</c>); &lt;= 0 disables it, 1 is greedy. Upstream's default: -100.</summary>
    public int? TopK { get; set; }
    /// <summary>Nucleus sampling (<c>top_p</c>), [0, 1]; 1 (default) disables it.</summary>
    public float? TopP { get; set; }
    /// <summary><c>temperature</c> &gt;= 0 (0 is greedy); default 1.</summary>
    public float? Temperature { get; set; }
    /// <summary><c>min_p</c>, [0, 1]; 0 (default) disables it.</summary>
    public float? MinP { get; set; }
    /// <summary><c>repetition_penalty</c> &gt; 0; 1 (default) disables it.</summary>
    public float? RepetitionPenalty { get; set; }
    /// <summary>How many recent tokens the repetition penalty looks at (<c>repetition_window</c>); default 0.</summary>
    public int? RepetitionWindow { get; set; }
    /// <summary>Sampler seed (<c>seed</c>); the same seed, text and voice give the same audio on the same device. Null: random.</summary>
    public ulong? Seed { get; set; }
    /// <summary>Cap on generated audio per utterance in seconds (<c>max_duration</c>), (0, 3600]; null: the model's own limit.</summary>
    public double? MaxDuration { get; set; }
    /// <summary>
    /// Synthesise sentence by sentence with the full voice prompt (<c>split_sentences</c>). Default: false for
    /// <see cref="ValleSpeechClient.GetAudioAsync"/> (one utterance; pieces are joined with 0.2 s of silence when
    /// true), true for <see cref="ValleSpeechClient.GetStreamingAudioAsync"/> (one update per sentence).
    /// </summary>
    public bool? SplitSentences { get; set; }
    /// <summary>
    /// Upstream VALL-E X's <c>best_of</c> (<c>best_of</c>): sample this many AR candidates per utterance in one
    /// batched pass and keep the one with the highest mean log-probability; 1..64, default 1.
    /// </summary>
    public int? BestOf { get; set; }
    /// <summary>
    /// VALL-E X with sentences (<c>prompt_mode</c>): <c>fixed</c> (default: every sentence with the voice) or
    /// <c>sliding</c> (each sentence prompted by the previous one, as upstream's <c>sliding-window</c>).
    /// </summary>
    public string? PromptMode { get; set; }
    /// <summary>e-c-k-e-r/vall-e (<c>mode</c>): <c>ar+nar</c> or <c>nar-len</c>; default: ar+nar when the model has an AR.</summary>
    public string? Mode { get; set; }
    /// <summary>e-c-k-e-r/vall-e nar-len (<c>length</c>): frames to generate (75 a second); default: the model's len task.</summary>
    public int? Length { get; set; }
    /// <summary>e-c-k-e-r/vall-e nar-len (<c>demask_steps</c>): demasking steps (upstream's <c>max_steps</c>), default 25.</summary>
    public int? DemaskSteps { get; set; }
    /// <summary>e-c-k-e-r/vall-e nar-len (<c>cfg_strength</c>): classifier-free guidance strength, default 2.5 (upstream applies at least 2.5).</summary>
    public float? CfgStrength { get; set; }
    /// <summary>e-c-k-e-r/vall-e nar-len (<c>cfg_rescale</c>): guidance rescale, [0, 1], default 0.75.</summary>
    public float? CfgRescale { get; set; }
    /// <summary>
    /// e-c-k-e-r/vall-e (<c>nar_temperature</c>): temperature of the NAR levels, with the AR's filters and seed; 0
    /// (default) is greedy, as upstream. <see cref="Temperature"/> and the other sampling settings drive the AR.
    /// </summary>
    public float? NarTemperature { get; set; }
    /// <summary>
    /// e-c-k-e-r/vall-e (<c>min_ar_temperature</c>): the floor of upstream's dynamic temperature for the AR (and NAR-len
    /// demasking), &gt;= 0; null (default) leaves it off, as upstream's -1.
    /// </summary>
    public float? MinArTemperature { get; set; }
    /// <summary>e-c-k-e-r/vall-e (<c>min_nar_temperature</c>): as <see cref="MinArTemperature"/> for the NAR levels; null: off.</summary>
    public float? MinNarTemperature { get; set; }
    /// <summary>
    /// e-c-k-e-r/vall-e ar+nar (<c>repetition_penalty_decay</c>): the repetition penalty divides an earlier token's logit
    /// by <see cref="RepetitionPenalty"/> × distance^decay; default 0 (no decay). Only has an effect with a repetition
    /// penalty; refused with nar-len, which has none.
    /// </summary>
    public float? RepetitionPenaltyDecay { get; set; }
    /// <summary>
    /// e-c-k-e-r/vall-e ar+nar (<c>length_penalty</c>): the AR's stop logit is divided by (length + 1)^penalty; default 0
    /// (off). Refused with nar-len (it is the AR's only).
    /// </summary>
    public float? LengthPenalty { get; set; }
    /// <summary>Progress of this call, replacing <see cref="ValleSpeechClientOptions.Progress"/>.</summary>
    public IProgress<ValleProgress>? Progress { get; set; }

    /// <inheritdoc/>
    public override TextToSpeechOptions Clone() => new ValleSpeechOptions(this);
}
