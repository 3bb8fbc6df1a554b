using System.Text.Json;

namespace VallE.Weights;

/// <summary>
/// The hyper-parameters of an e-c-k-e-r/vall-e model (its <c>ar+nar-llama-8</c> family), as its exported
/// <c>.sft</c> file states them: the <c>config</c> JSON in the safetensors metadata (upstream's model config:
/// <c>size</c>, <c>capabilities</c>, <c>experimental</c>, ...). <see cref="ClassifierNames"/> is read from the
/// tensors (one <c>classifiers.proj.N</c> per name). See docs/ecker.md.
/// </summary>
public sealed record EckerConfig
{
    public string Name { get; init; } = "";
    public int Version { get; init; }
    public string ArchType { get; init; } = "llama";
    public int Dim { get; init; }
    public int Heads { get; init; }
    public int Layers { get; init; }
    /// <summary>MLP width multiplier (<c>size.ffn</c>): intermediate size = <c>Dim · Ffn</c>.</summary>
    public int Ffn { get; init; } = 4;
    /// <summary>RVQ levels (<c>size.resp_levels</c>, 8 for EnCodec 24 kHz).</summary>
    public int Levels { get; init; } = 8;
    /// <summary>Codebook size (<c>size.audio_tokens</c>); the AR stop token and the NAR-len mask token are this id.</summary>
    public int AudioTokens { get; init; } = 1024;
    /// <summary>Phoneme vocabulary (<c>size.phoneme_tokens</c>, rows of <c>text_emb</c>).</summary>
    public int PhonemeTokens { get; init; }
    /// <summary>Raw-text vocabulary (<c>size.text_tokens</c>, rows of <c>raw_text_emb</c>; unused by TTS).</summary>
    public int TextTokens { get; init; }
    public int Tasks { get; init; }
    public int Langs { get; init; }
    public int Tones { get; init; }
    public int Experts { get; init; } = 1;
    /// <summary>As stored (upstream always appends "lang", so it may repeat); <see cref="Has"/> tests membership.</summary>
    public IReadOnlyList<string> Capabilities { get; init; } = [];
    /// <summary><c>experimental.noncausal_masks</c>: NAR passes (NAR-len included) attend bidirectionally; AR/len passes stay causal.</summary>
    public bool NoncausalMasks { get; init; }
    /// <summary><c>experimental.unified_position_ids</c>: one position count over the whole sequence instead of per segment.</summary>
    public bool UnifiedPositionIds { get; init; }
    /// <summary><c>experimental.audio_embedding_sums</c>: a level's input sums the embeddings of the levels below it.</summary>
    public bool AudioEmbeddingSums { get; init; } = true;
    /// <summary><c>experimental.split_classifiers</c>: one output head per task/level.</summary>
    public bool SplitClassifiers { get; init; } = true;
    public bool ClassifiersBias { get; init; } = true;
    /// <summary>
    /// <c>experimental.kv_heads</c> as stored. Upstream 73833ee never reads it when building the model (its LlamaConfig gets
    /// <c>num_key_value_heads = heads</c>), so the model has <see cref="Heads"/> key/value heads whatever this says.
    /// </summary>
    public int KvHeads { get; init; }
    /// <summary>Upstream's classifier names in <c>classifiers.proj</c> order: AR:0:0, NAR:0:1 .. NAR:6:7, NAR:0:0, stt, (len).</summary>
    public IReadOnlyList<string> ClassifierNames { get; init; } = [];

    public int HeadDim => Heads > 0 ? Dim / Heads : 0;
    public int FeedForward => Dim * Ffn;
    /// <summary>AR stop token (= <see cref="AudioTokens"/>).</summary>
    public int StopToken => AudioTokens;
    /// <summary>NAR-len mask token (= <see cref="AudioTokens"/>).</summary>
    public int MaskToken => AudioTokens;
    /// <summary>Classes of the <c>len</c> head: digits 0..9 and the stop digit 10.</summary>
    public const int LenClasses = 11;

    public bool Has(string capability) => Capabilities.Contains(capability, StringComparer.Ordinal);
    /// <summary>Index of the classifier called <paramref name="name"/> in <c>classifiers.proj</c>, or -1.</summary>
    public int Classifier(string name) => ClassifierNames.ToList().IndexOf(name);

    /// <summary>Capabilities without repeats, in stored order.</summary>
    public IReadOnlyList<string> DistinctCapabilities => Capabilities.Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The metadata key upstream's export writes the model config under.</summary>
    public const string MetadataKey = "config";

    /// <summary>Whether <paramref name="metadata"/> (a safetensors <c>__metadata__</c>) carries an ecker model config.</summary>
    public static bool IsEckerMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(MetadataKey, out var json)) return false;
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("size", out var size)
                && size.ValueKind is JsonValueKind.Object or JsonValueKind.String or JsonValueKind.Number;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Parses upstream's model config JSON; <paramref name="where"/> names the file in errors.</summary>
    public static EckerConfig Parse(string json, string where)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new InvalidInputException($"{where}: metadata '{MetadataKey}' is not JSON: {e.Message}"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidInputException($"{where}: metadata '{MetadataKey}' is not an object");
            if (!root.TryGetProperty("size", out var size) || size.ValueKind is not (JsonValueKind.Object or JsonValueKind.String or JsonValueKind.Number))
                throw new InvalidInputException($"{where}: metadata '{MetadataKey}' has no 'size' (an object, a preset name or a scale; not an e-c-k-e-r/vall-e model config)");
            var preset = SizePreset.Of(size);
            var exp = root.TryGetProperty("experimental", out var e) && e.ValueKind == JsonValueKind.Object ? e : default;

            var caps = new List<string>();
            if (root.TryGetProperty("capabilities", out var c) && c.ValueKind == JsonValueKind.Array)
                foreach (var item in c.EnumerateArray())
                    if (item.ValueKind == JsonValueKind.String) caps.Add(item.GetString()!);

            var config = new EckerConfig
            {
                Name = Str(root, "name") ?? "",
                Version = Int(root, "version", where) ?? 5,
                ArchType = Str(root, "arch_type") ?? "llama",
                // Upstream's Model properties: a key of a size dict wins, else the preset's value (see SizePreset).
                Dim = Int(size, "dim", where) ?? preset.Dim,
                Heads = Int(size, "heads", where) ?? preset.Heads,
                Layers = Int(size, "layers", where) ?? preset.Layers,
                Ffn = Int(size, "ffn", where) ?? 4,
                // Without a size key upstream picks 9 levels / 1000 tokens for its dac / nemo backends; the export's
                // config does not name the backend, so the EnCodec/Vocos values apply and the layout check reports a
                // file that differs.
                Levels = Int(size, "resp_levels", where) ?? 8,
                AudioTokens = Int(size, "audio_tokens", where) ?? 1024,
                PhonemeTokens = Int(size, "phoneme_tokens", where) ?? 256,
                TextTokens = Int(size, "text_tokens", where) ?? 8575,
                Tasks = Int(root, "tasks", where) ?? 0,
                Langs = Int(root, "langs", where) ?? 0,
                Tones = Int(root, "tones", where) ?? 0,
                Experts = Int(root, "experts", where) ?? 1,
                Capabilities = caps,
                NoncausalMasks = Bool(exp, "noncausal_masks") ?? false,
                UnifiedPositionIds = Bool(exp, "unified_position_ids") ?? false,
                AudioEmbeddingSums = Bool(exp, "audio_embedding_sums") ?? true,
                SplitClassifiers = Bool(exp, "split_classifiers") ?? true,
                ClassifiersBias = Bool(exp, "classifiers_bias") ?? true,
                KvHeads = Int(exp, "kv_heads", where) ?? 0,
            };
            if (config.Dim < 1 || config.Heads < 1 || config.Layers < 1 || config.Dim % config.Heads != 0 || config.Dim > 1 << 16 || config.Layers > 1000)
                throw new InvalidInputException($"{where}: size dim {config.Dim}, heads {config.Heads}, layers {config.Layers} is not a valid transformer size");
            if (config.Levels < 1 || config.Levels > 64 || config.AudioTokens < 2 || config.AudioTokens > 1 << 20 || config.Ffn < 1 || config.Ffn > 64)
                throw new InvalidInputException($"{where}: size resp_levels {config.Levels}, audio_tokens {config.AudioTokens}, ffn {config.Ffn} is out of range");
            return config;
        }
    }

    /// <summary>
    /// Upstream's size presets (<c>vall_e/config.py</c> <c>Model.dim/heads/layers</c> at 73833ee): its own
    /// data/config.yaml says <c>size: "full"</c>, so an export made from it stores the name, not numbers.
    /// "quarter" 256/4, "half" 512/8, anything else 1024/16; "double" 24 layers, "extended" 16, anything else 12;
    /// a float scales 1024 and 16 (<c>floor</c>). A dict falls back to the "full" values for keys it lacks.
    /// </summary>
    private readonly record struct SizePreset(int Dim, int Heads, int Layers)
    {
        public static SizePreset Of(JsonElement size)
        {
            string? name = size.ValueKind == JsonValueKind.String ? size.GetString() : null;
            int layers = name switch { "double" => 24, "extended" => 16, _ => 12 };
            // Python's isinstance(size, float): a JSON number written with a fraction or exponent (json.dumps(0.5)).
            if (size.ValueKind == JsonValueKind.Number && size.GetRawText().IndexOfAny(['.', 'e', 'E']) >= 0 && size.TryGetDouble(out double scale)
                && double.IsFinite(scale) && scale > 0 && scale <= 64)
                return new((int)Math.Floor(1024 * scale), (int)Math.Floor(16 * scale), layers);
            return name switch
            {
                "quarter" => new(256, 4, layers),
                "half" => new(512, 8, layers),
                _ => new(1024, 16, layers),
            };
        }
    }

    private static string? Str(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool? Bool(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? v.GetBoolean() : null;

    private static int? Int(JsonElement o, string name, string where)
    {
        if (o.ValueKind != JsonValueKind.Object || !o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i)) return i;
        throw new InvalidInputException($"{where}: model config '{name}' is {v.GetRawText()}, expected an integer");
    }
}
