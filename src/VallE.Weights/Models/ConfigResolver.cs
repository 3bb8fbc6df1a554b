using System.Globalization;
using System.Text.RegularExpressions;

namespace VallE.Weights;

/// <summary>
/// Decides every hyper-parameter of a checkpoint, in this order of precedence: a user override (reported in
/// <see cref="Result.OverrideNotes"/>), then what the file states (icefall keys or config.json), then what the
/// tensors show (widths, layer counts, vocab sizes, final norm, prenets, ties, BOS row), then the family's
/// default (heads: 16; prefix_mode: VALL-E X 1, lifeiteng 0). It only decides; <see cref="LayoutValidator"/>
/// then checks the tensors against the result.
/// </summary>
public static partial class ConfigResolver
{
    public sealed record Result(ModelConfig Config, IReadOnlyDictionary<string, ConfigSource> Sources, IReadOnlyList<string> OverrideNotes);

    /// <summary>Upstream defaults (lifeiteng's get_model argument defaults; VALL-E X's released model).</summary>
    public const int DefaultNHead = 16;
    public const int DefaultAudioVocab = 1024;
    private const int MaxWidth = 1 << 16, MaxLayers = 1000, MaxVocab = 1 << 24;

    public static Result Resolve(IReadOnlyDictionary<string, TensorData> tensors, HyperParameters stored, ConfigOverrides overrides)
    {
        RequireVallE(tensors);
        var sources = new Dictionary<string, ConfigSource>(StringComparer.Ordinal);
        var notes = new List<string>();

        T Pick<T>(string name, T? fromFile, T? fromTensors, T fallback) where T : struct
        {
            if (fromFile is { } f) { sources[name] = ConfigSource.Checkpoint; return f; }
            if (fromTensors is { } t) { sources[name] = ConfigSource.Inferred; return t; }
            sources[name] = ConfigSource.Default;
            return fallback;
        }

        // Family: VALL-E X is recognised by its language embeddings even when the file calls itself "VALL-E"
        // (Plachtaa trains with model_name VALL-E).
        bool hasLanguages = tensors.ContainsKey("ar_language_embedding.word_embeddings.weight");
        bool hasCross = tensors.Keys.Any(k => k.StartsWith("ar_decoder.layers.", StringComparison.Ordinal) && k.Contains(".multihead_attn.", StringComparison.Ordinal));
        ModelFamily inferredFamily = hasLanguages ? ModelFamily.VallEX : hasCross ? ModelFamily.Vallf : ModelFamily.Valle;
        ModelFamily? storedFamily = stored.Family;
        if (storedFamily == ModelFamily.Valle && hasLanguages) storedFamily = null; // the tensors know better
        ModelFamily family = Pick("family", storedFamily, (ModelFamily?)inferredFamily, ModelFamily.Valle);
        if (overrides.Family is { } fo) family = Override(sources, notes, "family", family, fo, FamilyName(fo), FamilyName(family));
        bool vallex = family == ModelFamily.VallEX;

        int dModel = Pick("d_model", stored.Int("d_model"), Dim(tensors, "ar_text_embedding.word_embeddings.weight", 1)
            ?? Dim(tensors, "ar_predict_layer.weight", 1), 0);
        int numLayers = Pick("num_layers", stored.Int("num_layers"), CountLayers(tensors, "ar_decoder"), 0);
        int nhead = Pick("nhead", stored.Int("nhead"), (int?)null, DefaultNHead);
        if (overrides.NHead is { } no) nhead = Override(sources, notes, "nhead", nhead, no, Str(no), Str(nhead));

        // NAR sizes: upstream scales width, heads and layers by scale_factor with int() truncation.
        int? narWidth = Dim(tensors, "nar_text_embedding.word_embeddings.weight", 1);
        double? inferredScale = narWidth is { } nw && dModel > 0 ? (double)nw / dModel : null;
        double scale = Pick("scale_factor", stored.Double("scale_factor"), inferredScale, 1.0);
        ConfigSource scaleSource = sources["scale_factor"];
        int narDModel = Pick("nar_d_model", stored.Int("nar_d_model"), scaleSource == ConfigSource.Inferred ? narWidth : null, (int)(dModel * scale));
        if (stored.Int("nar_d_model") is null && scaleSource != ConfigSource.Inferred) sources["nar_d_model"] = scaleSource;
        int? narLayersFromScale = scaleSource == ConfigSource.Checkpoint ? (int)(numLayers * scale) : null;
        int narNumLayers = Pick("nar_num_layers", stored.Int("nar_num_layers") ?? narLayersFromScale,
            CountLayers(tensors, "nar_decoder"), (int)(numLayers * scale));
        int narNHead;
        if (overrides.NHead is not null || stored.Int("nar_nhead") is null)
        {
            narNHead = (int)(nhead * scale);
            ConfigSource headSource = sources["nhead"];
            sources["nar_nhead"] = headSource is ConfigSource.Override or ConfigSource.Default ? headSource : scaleSource;
        }
        else narNHead = Pick("nar_nhead", stored.Int("nar_nhead"), (int?)null, (int)(nhead * scale));

        bool normFirst = Pick("norm_first", stored.Bool("norm_first"), (bool?)(tensors.ContainsKey("ar_decoder.norm.weight")
            || tensors.ContainsKey("nar_decoder.norm.norm.weight")), true);
        bool addPrenet = Pick("add_prenet", stored.Bool("add_prenet"), (bool?)tensors.Keys.Any(k => k.StartsWith("ar_text_prenet.", StringComparison.Ordinal)), false);
        int prefixMode = Pick("prefix_mode", stored.Int("prefix_mode"), (int?)null, vallex ? 1 : 0);
        if (overrides.PrefixMode is { } po) prefixMode = Override(sources, notes, "prefix_mode", prefixMode, po, Str(po), Str(prefixMode));

        int audioVocab = Pick("audio_vocab", stored.Int("audio_vocab"), Dim(tensors, "ar_predict_layer.weight", 0) - 1, DefaultAudioVocab);
        int? arAudioRows = Dim(tensors, "ar_audio_embedding.word_embeddings.weight", 0);
        bool prependBos = Pick("prepend_bos", stored.Bool("prepend_bos"), arAudioRows is { } rows ? rows == audioVocab + 2 : null, vallex);
        int numQuantizers = Pick("num_quantizers", stored.Int("num_quantizers"), InferQuantizers(tensors), 8);
        bool shareEmbedding = Pick("share_embedding", stored.Bool("share_embedding"), InferSharing(tensors, numQuantizers), true);
        int textVocab = Pick("text_vocab", stored.Int("text_vocab"), Dim(tensors, "ar_text_embedding.word_embeddings.weight", 0), vallex ? 2048 : 512);
        int numLanguages = vallex
            ? Pick("num_languages", stored.Int("num_languages"), Dim(tensors, "ar_language_embedding.word_embeddings.weight", 0), 3)
            : Pick("num_languages", (int?)null, (int?)0, 0);

        var config = new ModelConfig
        {
            Family = family,
            DModel = dModel,
            NHead = nhead,
            NumLayers = numLayers,
            NarDModel = narDModel,
            NarNHead = narNHead,
            NarNumLayers = narNumLayers,
            ScaleFactor = scale,
            NormFirst = normFirst,
            AddPrenet = addPrenet,
            PrefixMode = prefixMode,
            ShareEmbedding = shareEmbedding,
            PrependBos = prependBos,
            NumQuantizers = numQuantizers,
            TextVocab = textVocab,
            AudioVocab = audioVocab,
            NumLanguages = numLanguages,
        };
        CheckConsistent(config, sources);
        return new Result(config, sources, notes);
    }

    /// <summary>Names of the config values in the order <c>valle inspect</c> shows them.</summary>
    public static readonly string[] Names =
    [
        "family", "d_model", "nhead", "num_layers", "nar_d_model", "nar_nhead", "nar_num_layers", "scale_factor",
        "norm_first", "add_prenet", "prefix_mode", "prepend_bos", "share_embedding", "num_quantizers",
        "text_vocab", "audio_vocab", "num_languages",
    ];

    public static string FamilyName(ModelFamily f) => f switch
    {
        ModelFamily.Valle => "valle",
        ModelFamily.Vallf => "vallf",
        ModelFamily.Ecker => "ecker",
        _ => "vallex",
    };

    private static T Override<T>(Dictionary<string, ConfigSource> sources, List<string> notes, string name, T current, T value,
        string shownValue, string shownCurrent)
    {
        ConfigSource was = sources[name];
        string from = was switch
        {
            ConfigSource.Checkpoint => "the checkpoint says",
            ConfigSource.Inferred => "the tensors suggest",
            _ => "the default is",
        };
        notes.Add(EqualityComparer<T>.Default.Equals(current, value)
            ? $"{name} = {shownValue} (override; {from} the same)"
            : $"{name} = {shownValue} (override; {from} {shownCurrent})");
        sources[name] = ConfigSource.Override;
        return value;
    }

    /// <summary>The <see cref="ConfigOverrides"/> property that sets hyper-parameter <paramref name="name"/>.</summary>
    private static string OverrideProperty(string name) => name switch
    {
        "nhead" or "nar_nhead" => nameof(ConfigOverrides.NHead),
        "prefix_mode" => nameof(ConfigOverrides.PrefixMode),
        "family" => nameof(ConfigOverrides.Family),
        _ => name,
    };

    private static string Str(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static void RequireVallE(IReadOnlyDictionary<string, TensorData> tensors)
    {
        if (tensors.ContainsKey("ar_text_embedding.word_embeddings.weight") || tensors.ContainsKey("ar_predict_layer.weight"))
            return;
        string examples = string.Join(", ", tensors.Keys.Take(3).Select(k => $"'{k}'"));
        throw new InvalidInputException(tensors.Count == 0
            ? "not a VALL-E checkpoint: it holds no tensors"
            : $"not a VALL-E checkpoint: none of its {tensors.Count} tensors is a VALL-E weight (no 'ar_text_embedding.word_embeddings.weight'; found {examples}{(tensors.Count > 3 ? ", ..." : "")})");
    }

    private static int? Dim(IReadOnlyDictionary<string, TensorData> tensors, string name, int axis) =>
        tensors.TryGetValue(name, out var t) && t.Rank == 2 && t.Shape[axis] <= int.MaxValue ? (int)t.Shape[axis] : null;

    private static int? CountLayers(IReadOnlyDictionary<string, TensorData> tensors, string prefix)
    {
        // Layer count = 1 + the highest index present; gaps are left for the validator to report as missing.
        int highest = -1;
        string start = prefix + ".layers.";
        foreach (string name in tensors.Keys)
        {
            if (!name.StartsWith(start, StringComparison.Ordinal)) continue;
            int dot = name.IndexOf('.', start.Length);
            if (dot > start.Length && int.TryParse(name.AsSpan(start.Length, dot - start.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int i) && i < 100_000)
                highest = Math.Max(highest, i);
        }
        return highest >= 0 ? highest + 1 : null;
    }

    private static int? InferQuantizers(IReadOnlyDictionary<string, TensorData> tensors)
    {
        int highest = -1;
        foreach (string name in tensors.Keys)
        {
            var m = NarAudioEmbedding().Match(name);
            if (m.Success && int.TryParse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int j) && j < 1000)
                highest = Math.Max(highest, j);
        }
        // No NAR at all: upstream builds none when num_quantizers == 1.
        return highest >= 0 ? highest + 1 : tensors.ContainsKey("ar_predict_layer.weight") ? 1 : null;
    }

    [GeneratedRegex(@"^nar_audio_embeddings\.(\d+)\.word_embeddings\.weight$")]
    private static partial Regex NarAudioEmbedding();

    /// <summary>Tied when the prediction layers alias the embeddings (or, copied apart, still hold equal bytes).</summary>
    private static bool? InferSharing(IReadOnlyDictionary<string, TensorData> tensors, int numQuantizers)
    {
        if (numQuantizers <= 2) return null;
        if (!tensors.TryGetValue("nar_predict_layers.0.weight", out var alias)
            || !tensors.TryGetValue("nar_audio_embeddings.2.word_embeddings.weight", out var target))
            return null;
        if (alias.IsSameViewAs(target)) return true;
        if (alias.DType != target.DType || !alias.Shape.AsSpan().SequenceEqual(target.Shape)) return false;
        if (!alias.IsContiguous || !target.IsContiguous || alias.ByteCount > int.MaxValue) return false;
        return alias.ContiguousBytes.SequenceEqual(target.ContiguousBytes);
    }

    private static void CheckConsistent(ModelConfig c, Dictionary<string, ConfigSource> sources)
    {
        void Check(bool ok, string name, string message, string? setting = null)
        {
            if (ok) return;
            // A value the caller overrode is a bad argument (named after the ConfigOverrides property); anything else
            // came from the file and is bad input.
            if (sources.TryGetValue(name, out var s) && s == ConfigSource.Override)
                throw new ArgumentException(message, OverrideProperty(name));
            throw new InvalidInputException(message) { Setting = setting };
        }
        // Upper bounds keep a corrupt value from making the layout (one entry per tensor) absurdly large.
        Check(c.DModel is > 0 and <= MaxWidth, "d_model", $"d_model {c.DModel} must be 1..{MaxWidth}");
        Check(c.NumLayers <= MaxLayers && c.NarNumLayers <= MaxLayers, "num_layers", $"layer counts ({c.NumLayers}, NAR {c.NarNumLayers}) must be at most {MaxLayers}");
        Check(c.NarDModel <= MaxWidth, "scale_factor", $"NAR width {c.NarDModel} must be at most {MaxWidth}");
        Check(c.TextVocab <= MaxVocab && c.AudioVocab <= MaxVocab && c.NumLanguages is >= 0 and <= 1000, "text_vocab",
            $"vocab sizes (text {c.TextVocab}, audio {c.AudioVocab}, languages {c.NumLanguages}) are out of range");
        Check(c.NumLayers > 0, "num_layers", $"num_layers {c.NumLayers} must be positive (no 'ar_decoder.layers.*' tensors?)");
        Check(c.NHead > 0, "nhead", $"nhead {c.NHead} must be positive");
        // A defaulted head count that does not fit is fixed by overriding it: say so, and name the override.
        bool headDefaulted = sources.TryGetValue("nhead", out var hs) && hs == ConfigSource.Default;
        string headHint = headDefaulted ? $" (the checkpoint does not store nhead and the default is {DefaultNHead})" : "";
        string? headSetting = headDefaulted ? nameof(ConfigOverrides.NHead) : null;
        Check(c.NHead <= 0 || c.DModel % c.NHead == 0, "nhead", $"nhead {c.NHead} does not divide d_model {c.DModel}{headHint}", headSetting);
        Check(c.ScaleFactor > 0 && double.IsFinite(c.ScaleFactor), "scale_factor", $"scale_factor {c.ScaleFactor} must be a positive number");
        Check(c.NumQuantizers is >= 1 and <= 64, "num_quantizers", $"num_quantizers {c.NumQuantizers} must be 1..64");
        if (c.NumQuantizers > 1)
        {
            Check(c.NarDModel > 0 && c.NarNumLayers > 0, "scale_factor", $"NAR width {c.NarDModel} and layers {c.NarNumLayers} must be positive");
            Check(c.NarNHead > 0 && c.NarDModel % c.NarNHead == 0, "nhead",
                $"NAR heads {c.NarNHead} (nhead * scale_factor) must be positive and divide the NAR width {c.NarDModel}{headHint}", headSetting);
        }
        Check(c.PrefixMode is 0 or 1 or 2 or 4, "prefix_mode", $"prefix_mode {c.PrefixMode} is not 0, 1, 2 or 4");
        Check(c.TextVocab > 0 && c.AudioVocab > 0, "text_vocab", $"vocab sizes must be positive (text {c.TextVocab}, audio {c.AudioVocab})");
        Check(c.Family != ModelFamily.VallEX || c.NumLanguages > 0, "num_languages", "a VALL-E X model needs language embeddings");
    }
}
