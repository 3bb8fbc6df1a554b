using System.Globalization;
using System.Text.Json;

namespace VallE.Server;

/// <summary>
/// The body of <c>POST /v1/audio/speech</c>, OpenAI's shape: <c>model</c> (accepted, ignored: one model per server),
/// <c>input</c> (required), <c>voice</c> (a name, or <c>{"id": name}</c>; may be left out when the server has one
/// voice), <c>response_format</c> (<c>wav</c> default, <c>pcm</c>; OpenAI's mp3/opus/aac/flac are refused),
/// <c>speed</c> (only 1), <c>stream_format</c> (only <c>audio</c>), <c>instructions</c> (ignored). Extras:
/// <c>seed</c>, <c>top_k</c>, <c>top_p</c>, <c>temperature</c>, <c>repetition_penalty</c>, <c>max_duration</c> (seconds per sentence),
/// <c>language</c> (lifeiteng: an espeak-ng language; VALL-E X: en, zh, ja, mix or auto), <c>best_of</c> (VALL-E X:
/// 1..64 AR candidates, the most likely kept), <c>prompt_mode</c> (VALL-E X with several sentences: fixed or
/// sliding), and for e-c-k-e-r/vall-e <c>mode</c> (ar+nar or nar-len), <c>length</c>, <c>demask_steps</c>,
/// <c>cfg_strength</c>, <c>cfg_rescale</c> (nar-len), <c>nar_temperature</c>, <c>min_ar_temperature</c>,
/// <c>min_nar_temperature</c>, <c>repetition_penalty_decay</c> and <c>length_penalty</c> (ar+nar). Their values are judged by the library (<see cref="ValleSpeechOptions"/>). Other fields are ignored. Refusals are <see cref="ApiException"/>s (400, or 413 for
/// an input over the limit).
/// </summary>
internal sealed class SpeechRequest
{
    public required string Input { get; init; }
    public string? Voice { get; init; }
    public bool Pcm { get; init; }
    public string? Language { get; init; }
    public ulong? Seed { get; init; }
    public int? TopK { get; init; }
    public float? TopP { get; init; }
    public float? Temperature { get; init; }
    public float? RepetitionPenalty { get; init; }
    public double? MaxDuration { get; init; }
    public int? BestOf { get; init; }
    public string? PromptMode { get; init; }
    public string? Mode { get; init; }
    public int? Length { get; init; }
    public int? DemaskSteps { get; init; }
    public float? CfgStrength { get; init; }
    public float? CfgRescale { get; init; }
    public float? NarTemperature { get; init; }
    public float? MinArTemperature { get; init; }
    public float? MinNarTemperature { get; init; }
    public float? RepetitionPenaltyDecay { get; init; }
    public float? LengthPenalty { get; init; }

    /// <summary>The library property of each request field, for the messages of the library's checks.</summary>
    public static readonly IReadOnlyDictionary<string, string> Fields = new Dictionary<string, string>
    {
        ["TopK"] = "top_k", ["TopP"] = "top_p", ["Temperature"] = "temperature", ["RepetitionPenalty"] = "repetition_penalty", ["Seed"] = "seed",
        ["MaxDuration"] = "max_duration", ["seconds"] = "max_duration", ["BestOf"] = "best_of", ["PromptMode"] = "prompt_mode",
        ["Language"] = "language", ["Mode"] = "mode", ["Length"] = "length", ["DemaskSteps"] = "demask_steps",
        ["CfgStrength"] = "cfg_strength", ["CfgRescale"] = "cfg_rescale", ["NarTemperature"] = "nar_temperature",
        ["MinArTemperature"] = "min_ar_temperature", ["MinNarTemperature"] = "min_nar_temperature",
        ["RepetitionPenaltyDecay"] = "repetition_penalty_decay", ["LengthPenalty"] = "length_penalty",
    };

    public static SpeechRequest Parse(JsonElement root, int maxInputChars)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new ApiException(400, "invalid_json", $"the request body must be a JSON object, not {Kind(root)}");

        if (!root.TryGetProperty("input", out var inputEl) || inputEl.ValueKind == JsonValueKind.Null)
            throw new ApiException(400, "missing_required_parameter", "'input' is required: the text to speak", "input");
        if (inputEl.ValueKind != JsonValueKind.String)
            throw new ApiException(400, "invalid_type", $"'input' must be a string, not {Kind(inputEl)}", "input");
        string input = inputEl.GetString()!;
        if (string.IsNullOrWhiteSpace(input))
            throw new ApiException(400, "empty_input", "'input' is empty: there is nothing to speak", "input");
        if (input.Length > maxInputChars)
            throw new ApiException(413, "input_too_long", $"'input' has {input.Length} characters; this server takes at most {maxInputChars} (--max-input-chars)", "input");

        string? voice = null;
        if (root.TryGetProperty("voice", out var voiceEl))
        {
            voice = voiceEl.ValueKind switch
            {
                JsonValueKind.Null => null,
                JsonValueKind.String => voiceEl.GetString(),
                JsonValueKind.Object when voiceEl.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String => id.GetString(),
                _ => throw new ApiException(400, "invalid_type", $"'voice' must be a voice name (string) or {{\"id\": name}}, not {Kind(voiceEl)}", "voice"),
            };
            if (voice is { Length: 0 }) throw new ApiException(400, "invalid_value", "'voice' is empty", "voice");
        }

        bool pcm = OptionalString(root, "response_format")?.Trim().ToLowerInvariant() switch
        {
            null or "wav" => false,
            "pcm" => true,
            var other => throw new ApiException(400, "unsupported_response_format",
                $"response_format '{other}' is not supported: use \"wav\" (default; 24 kHz mono PCM16) or \"pcm\" (raw s16le, 24 kHz mono)", "response_format"),
        };

        if (OptionalNumber(root, "speed") is { } speed && speed != 1)
            throw new ApiException(400, "unsupported_speed",
                $"speed {speed.ToString(CultureInfo.InvariantCulture)} is not supported: VALL-E has no speed control; send 1 or leave it out", "speed");

        string? streamFormat = OptionalString(root, "stream_format");
        if (streamFormat is not null && !streamFormat.Equals("audio", StringComparison.OrdinalIgnoreCase))
            throw new ApiException(400, "unsupported_stream_format",
                $"stream_format '{streamFormat}' is not supported: the audio itself is streamed (chunked), use \"audio\" or leave it out", "stream_format");

        return new SpeechRequest
        {
            Input = input,
            Voice = voice,
            Pcm = pcm,
            Language = OptionalString(root, "language"),
            Seed = OptionalInteger(root, "seed", 0, ulong.MaxValue) is { } s ? (ulong)s : null,
            TopK = OptionalInteger(root, "top_k", int.MinValue, int.MaxValue) is { } k ? (int)k : null,
            TopP = OptionalFloat(root, "top_p"),
            Temperature = OptionalFloat(root, "temperature"),
            RepetitionPenalty = OptionalFloat(root, "repetition_penalty"),
            MaxDuration = OptionalNumber(root, "max_duration"),
            BestOf = OptionalInteger(root, "best_of", int.MinValue, int.MaxValue) is { } b ? (int)b : null,
            PromptMode = OptionalString(root, "prompt_mode"),
            Mode = OptionalString(root, "mode"),
            Length = OptionalInteger(root, "length", int.MinValue, int.MaxValue) is { } l ? (int)l : null,
            DemaskSteps = OptionalInteger(root, "demask_steps", int.MinValue, int.MaxValue) is { } d ? (int)d : null,
            CfgStrength = OptionalFloat(root, "cfg_strength"),
            CfgRescale = OptionalFloat(root, "cfg_rescale"),
            NarTemperature = OptionalFloat(root, "nar_temperature"),
            MinArTemperature = OptionalFloat(root, "min_ar_temperature"),
            MinNarTemperature = OptionalFloat(root, "min_nar_temperature"),
            RepetitionPenaltyDecay = OptionalFloat(root, "repetition_penalty_decay"),
            LengthPenalty = OptionalFloat(root, "length_penalty"),
        };
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    private static string? OptionalString(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind != JsonValueKind.String) throw new ApiException(400, "invalid_type", $"'{name}' must be a string, not {Kind(e)}", name);
        return e.GetString();
    }

    private static double? OptionalNumber(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out double v) || !double.IsFinite(v))
            throw new ApiException(400, "invalid_type", $"'{name}' must be a finite number, not {Kind(e)}", name);
        return v;
    }

    private static float? OptionalFloat(JsonElement root, string name)
    {
        if (OptionalNumber(root, name) is not { } v) return null;
        if (Math.Abs(v) > float.MaxValue) throw new ApiException(400, "invalid_value", $"'{name}' {v.ToString(CultureInfo.InvariantCulture)} is out of range", name);
        return (float)v;
    }

    private static decimal? OptionalInteger(JsonElement root, string name, decimal min, decimal max)
    {
        if (!root.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetDecimal(out decimal d) || d != decimal.Truncate(d) || d < min || d > max)
            throw new ApiException(400, "invalid_value",
                $"'{name}' must be an integer in [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}], got {(e.ValueKind == JsonValueKind.Number ? e.GetRawText() : Kind(e))}", name);
        return d;
    }
}
