using System.Text.Json;
using System.Text.Json.Serialization;

namespace VallE.Native;

/// <summary>
/// <c>valle_engine_open</c>'s options JSON. Field names are the C ABI's contract (docs/embedding.md); a field not
/// listed here is a usage error (rc 2), so a misspelt option never passes silently.
/// </summary>
internal sealed class EngineOptionsJson
{
    [JsonPropertyName("checkpoint")] public string? Checkpoint { get; set; }
    [JsonPropertyName("symbols")] public string? Symbols { get; set; }
    [JsonPropertyName("tokenizer")] public string? Tokenizer { get; set; }
    [JsonPropertyName("codec_decoder")] public string? CodecDecoder { get; set; }
    [JsonPropertyName("codec_encoder")] public string? CodecEncoder { get; set; }
    [JsonPropertyName("device")] public string? Device { get; set; }
    [JsonPropertyName("threads")] public int? Threads { get; set; }
    [JsonPropertyName("language")] public string? Language { get; set; }
    [JsonPropertyName("max_prompt_seconds")] public double? MaxPromptSeconds { get; set; }
    [JsonPropertyName("voices")] public Dictionary<string, VoiceJson?>? Voices { get; set; }
}

/// <summary>
/// One voice: exactly one of <c>wav</c>, <c>codes</c> and <c>preset</c> (VALL-E X <c>.npz</c>); <c>wav</c> and
/// <c>codes</c> with their <c>transcript</c> and optionally its <c>language</c> (VALL-E X: en, zh, ja, auto); without a
/// transcript for e-c-k-e-r/vall-e checkpoints (their prompt is the recording alone).
/// </summary>
internal sealed class VoiceJson
{
    [JsonPropertyName("wav")] public string? Wav { get; set; }
    [JsonPropertyName("codes")] public string? Codes { get; set; }
    [JsonPropertyName("preset")] public string? Preset { get; set; }
    [JsonPropertyName("transcript")] public string? Transcript { get; set; }
    [JsonPropertyName("language")] public string? Language { get; set; }
}

/// <summary><c>valle_synthesize</c>'s request JSON.</summary>
internal sealed class SynthesisRequestJson
{
    [JsonPropertyName("text")] public string? Text { get; set; }
    [JsonPropertyName("voice")] public string? Voice { get; set; }
    [JsonPropertyName("sentences")] public bool? Sentences { get; set; }
    [JsonPropertyName("language")] public string? Language { get; set; }
    [JsonPropertyName("seed")] public ulong? Seed { get; set; }
    [JsonPropertyName("top_k")] public int? TopK { get; set; }
    [JsonPropertyName("top_p")] public float? TopP { get; set; }
    [JsonPropertyName("temperature")] public float? Temperature { get; set; }
    [JsonPropertyName("min_p")] public float? MinP { get; set; }
    [JsonPropertyName("repetition_penalty")] public float? RepetitionPenalty { get; set; }
    [JsonPropertyName("repetition_window")] public int? RepetitionWindow { get; set; }
    [JsonPropertyName("max_duration")] public double? MaxDuration { get; set; }
    [JsonPropertyName("best_of")] public int? BestOf { get; set; }
    [JsonPropertyName("prompt_mode")] public string? PromptMode { get; set; }
    [JsonPropertyName("mode")] public string? Mode { get; set; }
    [JsonPropertyName("length")] public int? Length { get; set; }
    [JsonPropertyName("demask_steps")] public int? DemaskSteps { get; set; }
    [JsonPropertyName("cfg_strength")] public float? CfgStrength { get; set; }
    [JsonPropertyName("cfg_rescale")] public float? CfgRescale { get; set; }
    [JsonPropertyName("nar_temperature")] public float? NarTemperature { get; set; }
    [JsonPropertyName("min_ar_temperature")] public float? MinArTemperature { get; set; }
    [JsonPropertyName("min_nar_temperature")] public float? MinNarTemperature { get; set; }
    [JsonPropertyName("repetition_penalty_decay")] public float? RepetitionPenaltyDecay { get; set; }
    [JsonPropertyName("length_penalty")] public float? LengthPenalty { get; set; }
}

/// <summary>
/// Source-generated (de)serialisers: no reflection under NativeAOT. Unknown members are errors; comments and
/// trailing commas are not accepted (strict JSON), duplicate properties are errors.
/// </summary>
[JsonSourceGenerationOptions(
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false,
    ReadCommentHandling = JsonCommentHandling.Disallow,
    AllowTrailingCommas = false,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(EngineOptionsJson))]
[JsonSerializable(typeof(SynthesisRequestJson))]
internal sealed partial class NativeJsonContext : JsonSerializerContext;
