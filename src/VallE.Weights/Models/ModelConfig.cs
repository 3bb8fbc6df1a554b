using System.Text.Json.Serialization;

namespace VallE.Weights;

/// <summary>Which upstream model class a checkpoint belongs to.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ModelFamily>))]
public enum ModelFamily
{
    /// <summary>lifeiteng/vall-e <c>VALLE</c>: decoder-only (causal TransformerEncoder) AR + NAR.</summary>
    [JsonStringEnumMemberName("valle")] Valle,
    /// <summary>lifeiteng/vall-e <c>VALLF</c>: TransformerDecoder with cross-attention to the text.</summary>
    [JsonStringEnumMemberName("vallf")] Vallf,
    /// <summary>Plachtaa/VALL-E-X: VALLE plus AR/NAR language embeddings.</summary>
    [JsonStringEnumMemberName("vallex")] VallEX,
    /// <summary>e-c-k-e-r/vall-e (<c>ar+nar-llama-8</c>, <c>ar+nar-len-llama-8</c>): one LLaMA-block model for AR, NAR and
    /// NAR-len; its hyper-parameters are in <see cref="ModelConfig.Ecker"/>.</summary>
    [JsonStringEnumMemberName("ecker")] Ecker,
}

/// <summary>Where a hyper-parameter's value came from (reported by <c>valle inspect</c>).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ConfigSource>))]
public enum ConfigSource
{
    /// <summary>Stored in the checkpoint (icefall top-level keys, or a converted config.json).</summary>
    [JsonStringEnumMemberName("checkpoint")] Checkpoint,
    /// <summary>Deduced from tensor names and shapes.</summary>
    [JsonStringEnumMemberName("inferred")] Inferred,
    /// <summary>The family's default (e.g. VALL-E X: 16 heads, prefix_mode 1).</summary>
    [JsonStringEnumMemberName("default")] Default,
    /// <summary>Given by the user on the command line.</summary>
    [JsonStringEnumMemberName("override")] Override,
}

/// <summary>
/// Everything the runtime needs to know to build a VALL-E model, independent of the file it came from.
/// Names follow the upstream constructor arguments; NAR sizes are already scaled by <c>scale_factor</c>.
/// </summary>
public sealed record ModelConfig
{
    public ModelFamily Family { get; init; }
    /// <summary>AR width (<c>decoder_dim</c> / <c>d_model</c>).</summary>
    public int DModel { get; init; }
    public int NHead { get; init; }
    public int NumLayers { get; init; }
    /// <summary><c>int(d_model * scale_factor)</c>.</summary>
    public int NarDModel { get; init; }
    /// <summary><c>int(nhead * scale_factor)</c>.</summary>
    public int NarNHead { get; init; }
    /// <summary><c>int(num_layers * scale_factor)</c>.</summary>
    public int NarNumLayers { get; init; }
    public double ScaleFactor { get; init; } = 1.0;
    public bool NormFirst { get; init; } = true;
    public bool AddPrenet { get; init; }
    /// <summary>0, 1, 2 or 4 (upstream's NAR prompt handling).</summary>
    public int PrefixMode { get; init; }
    public bool ShareEmbedding { get; init; } = true;
    /// <summary>AR audio sequence starts with BOS (id 1025); the AR audio embedding then has 1026 rows.</summary>
    public bool PrependBos { get; init; }
    public int NumQuantizers { get; init; } = 8;
    /// <summary>Rows of the text embeddings (lifeiteng 512, VALL-E X 2048).</summary>
    public int TextVocab { get; init; }
    /// <summary>Codebook size (1024); EOS is id <c>AudioVocab</c>, BOS id <c>AudioVocab + 1</c>.</summary>
    public int AudioVocab { get; init; } = 1024;
    /// <summary>Language-embedding rows (VALL-E X: 3, en=0 zh=1 ja=2); 0 for lifeiteng models.</summary>
    public int NumLanguages { get; init; }
    /// <summary>FFN width multiplier: upstream uses <c>dim_feedforward = 4 * d_model</c>.</summary>
    public int FeedForwardMultiplier { get; init; } = 4;
    public float LayerNormEps { get; init; } = 1e-5f;
    /// <summary>The e-c-k-e-r/vall-e hyper-parameters when <see cref="Family"/> is <see cref="ModelFamily.Ecker"/>; null otherwise.</summary>
    public EckerConfig? Ecker { get; init; }

    public int EosToken => AudioVocab;
    public int BosToken => AudioVocab + 1;
    public int FeedForwardDim => DModel * FeedForwardMultiplier;
    public int NarFeedForwardDim => NarDModel * FeedForwardMultiplier;

    /// <summary>VALL-E X language ids, as its model class numbers them (not its <c>lang2code</c> table).</summary>
    public static readonly IReadOnlyDictionary<string, int> VallEXLanguageIds =
        new Dictionary<string, int> { ["en"] = 0, ["zh"] = 1, ["ja"] = 2 };
}

/// <summary>
/// Caller overrides of the resolved hyper-parameters (the CLI's <c>--nhead</c>, <c>--prefix-mode</c>, <c>--family</c>); null = not
/// given. A value that cannot apply to the model is an <see cref="ArgumentException"/> whose ParamName is the property.
/// </summary>
public sealed record ConfigOverrides
{
    public int? NHead { get; init; }
    public int? PrefixMode { get; init; }
    public ModelFamily? Family { get; init; }

    public static readonly ConfigOverrides None = new();
}
