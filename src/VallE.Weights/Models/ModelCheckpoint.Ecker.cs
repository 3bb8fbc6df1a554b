using VallE.Weights.Pickle;
using VallE.Weights.Safetensors;
using VallE.Weights.Torch;

namespace VallE.Weights;

// e-c-k-e-r/vall-e (73833ee) writes model weights in these forms (vall_e/engines/base.py, vall_e/utils/io.py):
//   export (Engines.export, `python -m vall_e.export`): {"module": state_dict, "stats": {...}, "userdata": {"symmap": ...},
//     "config": Model.__dict__ with "experimental" as a dict} (+ "lora" when training one), saved by torch_save:
//     as .pt/.pth a torch.save of that dict; as .sft/.safetensors the tensors of "module" with every other non-None
//     entry in the metadata (dicts/lists as JSON text).
//   trainer checkpoint (save_checkpoint, local backend): {"module": state_dict, "stats": {...}} as state.sft / state.pth,
//     no config; DeepSpeed's own mp_rank_00_model_states.pt also has "module" and no config.
// torch_load reads .sft back as {"module": tensors} | metadata, so both export forms reach the same dict; we do the same.
public sealed partial class ModelCheckpoint
{
    /// <summary>
    /// For an ecker checkpoint: upstream's metadata entries besides the tensors (<c>config</c>, <c>userdata</c>,
    /// <c>stats</c>, ...) as the strings an upstream <c>.sft</c> stores (dicts and lists as JSON). <c>convert</c> writes
    /// them into its model.safetensors so upstream's own loader reads the result. Null for other families.
    /// </summary>
    public IReadOnlyDictionary<string, string>? EckerMetadata { get; private init; }

    /// <summary>Whether the safetensors file at <paramref name="path"/> carries an e-c-k-e-r/vall-e model config in its metadata.</summary>
    private static bool IsEckerFile(string path)
    {
        using var file = SafetensorsFile.Open(path);
        return EckerConfig.IsEckerMetadata(file.Metadata);
    }

    private static void CheckEckerOverrides(ConfigOverrides overrides)
    {
        if (overrides.NHead is not null) throw new ArgumentException("nhead cannot be overridden for an ecker model (its config states it)", nameof(ConfigOverrides.NHead));
        if (overrides.PrefixMode is not null) throw new ArgumentException("prefix_mode does not apply to an ecker model", nameof(ConfigOverrides.PrefixMode));
        if (overrides.Family is { } f && f != ModelFamily.Ecker)
            throw new ArgumentException($"this is an ecker model, not {ConfigResolver.FamilyName(f)}", nameof(ConfigOverrides.Family));
    }

    /// <summary>
    /// An e-c-k-e-r/vall-e export in safetensors form (<c>.sft</c>, a <c>.safetensors</c> without config.json whose
    /// metadata holds the model <c>config</c>, or the model.safetensors of a folder <c>valle convert</c> wrote):
    /// tensors under upstream's names, every floating dtype upstream writes (f32, f16, bf16). Overrides of VALL-E
    /// hyper-parameters do not apply to it.
    /// </summary>
    private static ModelCheckpoint OpenEcker(string path, ConfigOverrides overrides, string? sourcePath = null,
        (string, string, DType)? recordedOrigin = null, Action<EckerConfig>? check = null)
    {
        CheckEckerOverrides(overrides);
        string where = Path.GetFileName(path);
        var file = SafetensorsFile.Open(path);
        try
        {
            if (!file.Metadata.TryGetValue(EckerConfig.MetadataKey, out var json))
                throw new InvalidInputException(
                    $"{where}: no '{EckerConfig.MetadataKey}' entry in the safetensors metadata (an e-c-k-e-r/vall-e export states its model config there; " +
                    $"a trainer checkpoint such as state.sft has none: {ExportHint})");
            return BuildEcker(sourcePath ?? path, where, "safetensors", json, file.Metadata, file.Tensors, file, recordedOrigin, check);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>What to do with an upstream file that has weights but no model config.</summary>
    private const string ExportHint =
        "export it with upstream's `python -m vall_e.export --yaml CONFIG.yaml` (writes fp32.sft with the config; `--format pt` for fp32.pt), " +
        "or load the fp32.sft / fp32.pt that export wrote";

    /// <summary>
    /// Upstream's torch forms: a dict whose <c>module</c> entry is the state dict. Null when the pickled root is not
    /// one that looks like an ecker model (the VALL-E reader then handles or refuses it). An ecker state dict without a
    /// model config (trainer checkpoint, DeepSpeed checkpoint, a bare <c>torch.save(model.state_dict())</c>) is refused
    /// with what is needed instead.
    /// </summary>
    private static ModelCheckpoint? TryOpenEckerTorch(TorchCheckpoint torch, string path, ConfigOverrides overrides)
    {
        string where = Path.GetFileName(path);
        if (torch.Root is not PyDict root) return null;
        object? config = root.GetOrNull(EckerConfig.MetadataKey);
        bool hasEckerConfig = config is PyDict c && c.TryGet("size", out _);
        if (root.GetOrNull("module") is PyDict module && module.Entries.Any(e => e.Value is TensorData))
        {
            if (!hasEckerConfig)
            {
                // export --lora writes {"module": LoRA weights, "config": the LoRA's config (name, rank, alpha, ...)}.
                if (config is PyDict other && other.TryGet("rank", out _) && other.TryGet("alpha", out _))
                    throw new InvalidInputException($"{where}: an e-c-k-e-r/vall-e LoRA (its 'config' is a LoRA config: rank, alpha); LoRAs are not supported, load the base model's export");
                if (!LooksEcker(module)) return null;
                throw new InvalidInputException(
                    $"{where}: an e-c-k-e-r/vall-e state dict without its model config (root keys: {Keys(root)}; upstream's trainer checkpoint " +
                    $"state.pth / state.sft and DeepSpeed's mp_rank_00_model_states.pt carry none) — {ExportHint}");
            }
            if (root.GetOrNull("lora") is { } lora && !(lora is PyDict { Count: 0 }))
                throw new InvalidInputException($"{where}: carries LoRA weights ('lora'); LoRAs are not supported (their weights would be ignored): export the model without the LoRA");
            CheckEckerOverrides(overrides);
            string json = PyJson.Serialize(config, $"{where}: '{EckerConfig.MetadataKey}'");
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in root.Entries)
            {
                // As upstream's torch_save does for .sft: every entry but the state dict, None dropped, dicts and
                // lists as JSON text, strings as they are.
                if (key is not string name || name is "module" or "lora" || value is null) continue;
                metadata[name] = value is string s ? s : PyJson.Serialize(value, $"{where}: '{name}'");
            }
            var tensors = new List<TensorData>();
            foreach (var (key, value) in module.Entries)
            {
                if (key is not string name) throw new InvalidInputException($"{where}: state dict key {PyRepr.Of(key)} is not a string");
                if (value is not TensorData t) throw new InvalidInputException($"{where}: state dict entry '{name}' is {Describe(value)}, not a tensor");
                tensors.Add(Rename(t, name));
            }
            return BuildEcker(path, where, "torch", json, metadata, tensors, torch, recordedOrigin: null, check: null);
        }
        if (hasEckerConfig)
            throw new InvalidInputException($"{where}: has an e-c-k-e-r/vall-e model 'config' but no 'module' state dict of tensors (root keys: {Keys(root)})");
        // torch.save(model.state_dict()) of an ecker model: tensors only.
        if (root.Count > 0 && root.Entries.All(e => e.Value is TensorData) && LooksEcker(root))
            throw new InvalidInputException($"{where}: an e-c-k-e-r/vall-e state dict without its model config — {ExportHint}");
        return null;
    }

    private static string Keys(PyDict dict) =>
        string.Join(", ", dict.Entries.Take(6).Select(e => PyRepr.Of(e.Key))) + (dict.Count > 6 ? ", ..." : "");

    /// <summary>Tensor names only an ecker (LLaMA-block) model has; VALL-E's are ar_decoder / ar_predict_layer.</summary>
    private static bool LooksEcker(PyDict stateDict) => stateDict.Entries.Any(e => e.Key is string k && EckerName(k) is
        "classifiers.proj.0.weight" or "resps_emb.embeddings.0.weight" or "model.layers.0.self_attn.q_proj.weight" or "classifier.weight");

    /// <summary>Upstream's name without wrapper prefixes: DataParallel/DDP <c>module.</c>, torch.compile <c>_orig_mod.</c>.</summary>
    private static string EckerName(string name)
    {
        while (true)
        {
            if (name.StartsWith("module.", StringComparison.Ordinal)) name = name["module.".Length..];
            else if (name.StartsWith("_orig_mod.", StringComparison.Ordinal)) name = name["_orig_mod.".Length..];
            else return name;
        }
    }

    /// <summary>
    /// The one path every ecker form takes: parse upstream's config JSON, name the classifiers from the tensors,
    /// validate every tensor against the layout. <paramref name="check"/> sees the parsed config first (a converted
    /// folder compares its config.json with it).
    /// </summary>
    private static ModelCheckpoint BuildEcker(string path, string where, string format, string configJson,
        IReadOnlyDictionary<string, string> metadata, IEnumerable<TensorData> fileTensors, IDisposable owner,
        (string, string, DType)? recordedOrigin, Action<EckerConfig>? check)
    {
        var parsed = EckerConfig.Parse(configJson, where);
        // File order (upstream's state_dict order as exported).
        var ordered = new OrderedTensorMap();
        foreach (var t in fileTensors)
        {
            string name = EckerName(t.Name);
            if (ordered.ContainsKey(name)) throw new InvalidInputException($"{where}: tensor '{name}' appears twice (with and without a 'module.' / '_orig_mod.' prefix)");
            ordered.Add(name, Rename(t, name));
        }
        var ecker = parsed with { ClassifierNames = EckerLayout.ClassifierNames(parsed.Levels, EckerLayout.CountClassifiers(ordered)) };
        if (ecker.ArchType != "llama")
            throw new InvalidInputException($"{where}: arch_type '{ecker.ArchType}' is not supported (only 'llama', the released models' architecture)");
        check?.Invoke(ecker);
        EckerLayout.Validate(ecker, ordered, where);
        var config = new ModelConfig
        {
            Family = ModelFamily.Ecker,
            DModel = ecker.Dim,
            NHead = ecker.Heads,
            NumLayers = ecker.Layers,
            NarDModel = ecker.Dim,
            NarNHead = ecker.Heads,
            NarNumLayers = ecker.Layers,
            NormFirst = true,
            ShareEmbedding = false,
            NumQuantizers = ecker.Levels,
            TextVocab = ecker.PhonemeTokens,
            AudioVocab = ecker.AudioTokens,
            NumLanguages = ecker.Langs,
            FeedForwardMultiplier = ecker.Ffn,
            LayerNormEps = 1e-6f,
            Ecker = ecker,
        };
        var sources = ConfigResolver.Names.ToDictionary(n => n, _ => ConfigSource.Checkpoint, StringComparer.Ordinal);
        return new ModelCheckpoint(config, sources, ordered, path, format, FloatDType(ordered.Values), [], owner)
        {
            EckerMetadata = new Dictionary<string, string>(metadata, StringComparer.Ordinal),
            RecordedOrigin = recordedOrigin,
        };
    }
}
