using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VallE.Weights;

/// <summary>
/// The config.json of a converted checkpoint folder (beside model.safetensors): the resolved hyper-parameters,
/// where each originally came from, the tied tensor names (written once in model.safetensors, restored as
/// shared storage on load) and provenance. Versioned so that a future layout change is detected, not guessed.
/// </summary>
public sealed record ConvertedConfig
{
    public const string FormatName = "valle.net";
    public const int FormatVersion = 1;
    public const string FileName = "config.json";
    public const string WeightsFileName = "model.safetensors";

    public required ModelConfig Config { get; init; }
    /// <summary>Where each value came from when the original checkpoint was first converted.</summary>
    public required IReadOnlyDictionary<string, ConfigSource> Sources { get; init; }
    /// <summary>Alias name -> the stored tensor it shares memory with.</summary>
    public required IReadOnlyList<(string Alias, string Target)> Tied { get; init; }
    /// <summary>Dtype of the floating weights in model.safetensors.</summary>
    public required DType DType { get; init; }
    /// <summary>File name, format and dtype of the checkpoint first converted (kept through folder-to-folder copies).</summary>
    public required (string File, string Format, DType DType) ConvertedFrom { get; init; }

    /// <summary>The config values by snake_case name, as inspect prints them.</summary>
    public static IEnumerable<(string Name, object Value)> Values(ModelConfig c) =>
    [
        ("family", ConfigResolver.FamilyName(c.Family)), ("d_model", c.DModel), ("nhead", c.NHead), ("num_layers", c.NumLayers),
        ("nar_d_model", c.NarDModel), ("nar_nhead", c.NarNHead), ("nar_num_layers", c.NarNumLayers), ("scale_factor", c.ScaleFactor),
        ("norm_first", c.NormFirst), ("add_prenet", c.AddPrenet), ("prefix_mode", c.PrefixMode), ("prepend_bos", c.PrependBos),
        ("share_embedding", c.ShareEmbedding), ("num_quantizers", c.NumQuantizers), ("text_vocab", c.TextVocab),
        ("audio_vocab", c.AudioVocab), ("num_languages", c.NumLanguages),
    ];

    public static JsonNode ValueNode(object v) => v switch
    {
        string s => JsonValue.Create(s),
        int i => JsonValue.Create(i),
        bool b => JsonValue.Create(b),
        double d => JsonValue.Create(d),
        _ => throw new ArgumentException($"unexpected config value {v}"),
    };

    public string ToJson()
    {
        var config = new JsonObject();
        if (Config.Ecker is { } ecker)
        {
            foreach (var (name, value) in EckerValues(ecker)) config[name] = ValueNode(value);
            config["model_config"] = EckerConfigLocation;
        }
        else
            foreach (var (name, value) in Values(Config)) config[name] = ValueNode(value);
        var sources = new JsonObject();
        if (Config.Ecker is null) // an ecker config states every value itself; VALL-E's resolution sources do not apply
            foreach (string name in ConfigResolver.Names)
                if (Sources.TryGetValue(name, out var s)) sources[name] = SourceName(s);
        var tied = new JsonObject();
        foreach (var (alias, target) in Tied) tied[alias] = target;
        var root = new JsonObject
        {
            ["format"] = FormatName,
            ["format_version"] = FormatVersion,
            ["config"] = config,
            ["sources"] = sources,
            ["tied"] = tied,
            ["dtype"] = DType.ShortName(),
            ["converted_from"] = new JsonObject
            {
                ["file"] = ConvertedFrom.File,
                ["format"] = ConvertedFrom.Format,
                ["dtype"] = ConvertedFrom.DType.ShortName(),
            },
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    public static string SourceName(ConfigSource s) => s switch
    {
        ConfigSource.Checkpoint => "checkpoint",
        ConfigSource.Inferred => "inferred",
        ConfigSource.Default => "default",
        _ => "override",
    };

    /// <summary>
    /// Reads config.json. The stored hyper-parameters come back as <see cref="HyperParameters"/> so that the normal
    /// resolution (overrides, validation against the tensors) applies to converted folders too.
    /// </summary>
    public static (HyperParameters Stored, IReadOnlyDictionary<string, ConfigSource> Sources, IReadOnlyList<(string Alias, string Target)> Tied,
        (string File, string Format, DType DType)? ConvertedFrom) Read(string path)
    {
        string where = Path.GetFileName(path);
        var (obj, config) = Load(path);

        var stored = new HyperParameters();
        foreach (var (name, node) in config)
        {
            if (node is null) continue;
            try
            {
                switch (name)
                {
                    case "family":
                        stored.Set(name, ParseFamily(node.GetValue<string>(), where));
                        break;
                    case "scale_factor":
                        stored.Set(name, node.GetValue<double>());
                        break;
                    case "norm_first" or "add_prenet" or "prepend_bos" or "share_embedding":
                        stored.Set(name, node.GetValue<bool>());
                        break;
                    default:
                        if (!ConfigResolver.Names.Contains(name)) break; // newer writers may add informative keys
                        stored.Set(name, node.GetValue<long>());
                        break;
                }
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException)
            {
                throw new InvalidInputException($"{where}: config '{name}' has the wrong type ({node.ToJsonString()})", e);
            }
        }

        var sources = new Dictionary<string, ConfigSource>(StringComparer.Ordinal);
        if (obj["sources"] is JsonObject src)
        {
            foreach (var (name, node) in src)
            {
                string? s = node is JsonValue v && v.TryGetValue(out string? str) ? str : null;
                sources[name] = s switch
                {
                    "checkpoint" => ConfigSource.Checkpoint,
                    "inferred" => ConfigSource.Inferred,
                    "default" => ConfigSource.Default,
                    "override" => ConfigSource.Override,
                    _ => throw new InvalidInputException($"{where}: sources '{name}' is {node?.ToJsonString() ?? "null"}, expected checkpoint/inferred/default/override"),
                };
            }
        }

        var tied = new List<(string, string)>();
        if (obj["tied"] is JsonObject ties)
        {
            foreach (var (alias, node) in ties)
            {
                string? target = node is JsonValue v && v.TryGetValue(out string? str) ? str : null;
                if (target is null) throw new InvalidInputException($"{where}: tied '{alias}' does not name a tensor");
                tied.Add((alias, target));
            }
        }
        else if (obj["tied"] is not null) throw new InvalidInputException($"{where}: 'tied' is not an object");

        return (stored, sources, tied, ConvertedFromOf(obj, where));
    }

    private static (string, string, DType)? ConvertedFromOf(JsonObject obj, string where) =>
        obj["converted_from"] is JsonObject cf
            && Get<string>(cf, "file", where) is { } file && Get<string>(cf, "format", where) is { } fmt
            && Get<string>(cf, "dtype", where) is { } dt && DTypes.TryParseShortName(dt, out var fromDType)
            ? (file, fmt, fromDType) : null;

    /// <summary>
    /// The values an ecker folder's config.json shows (as <c>valle inspect</c> names them). They are a readable copy:
    /// the model config itself is upstream's JSON in model.safetensors' metadata (<c>config</c>), which upstream's
    /// loader reads too, so there is one source of truth; loading checks that the copy still agrees with it.
    /// </summary>
    public static IEnumerable<(string Name, object Value)> EckerValues(EckerConfig e) =>
    [
        ("family", "ecker"), ("name", e.Name), ("version", e.Version), ("arch_type", e.ArchType), ("dim", e.Dim),
        ("heads", e.Heads), ("kv_heads", e.KvHeads), ("layers", e.Layers), ("ffn", e.Ffn), ("levels", e.Levels),
        ("audio_tokens", e.AudioTokens), ("phoneme_tokens", e.PhonemeTokens), ("text_tokens", e.TextTokens), ("langs", e.Langs),
        ("tones", e.Tones), ("tasks", e.Tasks), ("noncausal_masks", e.NoncausalMasks), ("unified_position_ids", e.UnifiedPositionIds),
        ("audio_embedding_sums", e.AudioEmbeddingSums), ("split_classifiers", e.SplitClassifiers), ("classifiers_bias", e.ClassifiersBias),
    ];

    /// <summary>Where an ecker folder's model config lives (written into config.json for a reader who looks there).</summary>
    public const string EckerConfigLocation = WeightsFileName + " metadata 'config' (upstream's JSON)";

    /// <summary>
    /// For an ecker folder's config.json: its provenance and a check of its values against the model config parsed
    /// from model.safetensors. Null when config.json is not an ecker one (then <see cref="Read"/> applies).
    /// </summary>
    public static ((string File, string Format, DType DType)? ConvertedFrom, Action<EckerConfig> Check)? ReadEcker(string path)
    {
        string where = Path.GetFileName(path);
        var (obj, config) = Load(path);
        if (config["family"] is not JsonValue family || !family.TryGetValue(out string? name) || name != "ecker") return null;
        void Check(EckerConfig parsed)
        {
            foreach (var (key, value) in EckerValues(parsed))
            {
                if (config[key] is not JsonNode node) continue;
                string stored = node.ToJsonString(), actual = ValueNode(value).ToJsonString();
                if (stored != actual)
                    throw new InvalidInputException(
                        $"{where}: '{key}' is {stored} but the model config in {WeightsFileName} says {actual} (the metadata is what loads, here and upstream; convert the folder again)");
            }
        }
        return (ConvertedFromOf(obj, where), Check);
    }

    /// <summary>config.json read and checked as far as every family shares it: format, version, a 'config' object.</summary>
    private static (JsonObject Root, JsonObject Config) Load(string path)
    {
        string where = Path.GetFileName(path);
        JsonNode? root;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new InvalidInputException($"no {FileName} at {path} (a converted checkpoint needs one beside {WeightsFileName})");
            if (info.Length > 10_000_000) throw new InvalidInputException($"{path}: {info.Length} bytes is too large for a config");
            root = JsonNode.Parse(File.ReadAllBytes(path), documentOptions: new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"{path}: not valid JSON: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException($"cannot read {path}: {e.Message}", e);
        }
        if (root is not JsonObject obj) throw new InvalidInputException($"{where}: expected a JSON object");
        string? format = Get<string>(obj, "format", where);
        if (format != FormatName)
            throw new InvalidInputException($"{where}: 'format' is {(format is null ? "missing" : $"'{format}'")}, expected '{FormatName}' (not a VallE.NET converted checkpoint)");
        int? version = Get<int>(obj, "format_version", where);
        if (version != FormatVersion)
            throw new InvalidInputException($"{where}: format_version {version?.ToString(CultureInfo.InvariantCulture) ?? "missing"} is not supported (this build reads {FormatVersion})");
        if (obj["config"] is not JsonObject config) throw new InvalidInputException($"{where}: 'config' object missing");
        return (obj, config);
    }

    private static ModelFamily ParseFamily(string s, string where) => s switch
    {
        "valle" => ModelFamily.Valle,
        "vallf" => ModelFamily.Vallf,
        "vallex" => ModelFamily.VallEX,
        _ => throw new InvalidInputException($"{where}: config 'family' is '{s}', expected valle, vallf or vallex"),
    };

    private static T? Get<T>(JsonObject obj, string key, string where)
    {
        if (obj[key] is not JsonNode node) return default;
        try
        {
            return node.GetValue<T>();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidInputException($"{where}: '{key}' has the wrong type ({node.ToJsonString()})", e);
        }
    }
}
