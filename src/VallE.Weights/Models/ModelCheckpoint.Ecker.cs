using VallE.Weights.Safetensors;

namespace VallE.Weights;

public sealed partial class ModelCheckpoint
{
    /// <summary>Whether the safetensors file at <paramref name="path"/> carries an e-c-k-e-r/vall-e model config in its metadata.</summary>
    private static bool IsEckerFile(string path)
    {
        using var file = SafetensorsFile.Open(path);
        return EckerConfig.IsEckerMetadata(file.Metadata);
    }

    /// <summary>
    /// An e-c-k-e-r/vall-e export (<c>.sft</c>, or a <c>.safetensors</c> without config.json whose metadata holds the
    /// model <c>config</c>): tensors under upstream's names, every floating dtype upstream writes (f32, f16, bf16).
    /// Overrides of VALL-E hyper-parameters do not apply to it.
    /// </summary>
    private static ModelCheckpoint OpenEcker(string path, ConfigOverrides overrides)
    {
        if (overrides.NHead is not null) throw new ArgumentException("nhead cannot be overridden for an ecker model (its config states it)", nameof(ConfigOverrides.NHead));
        if (overrides.PrefixMode is not null) throw new ArgumentException("prefix_mode does not apply to an ecker model", nameof(ConfigOverrides.PrefixMode));
        if (overrides.Family is { } f && f != ModelFamily.Ecker)
            throw new ArgumentException($"this is an ecker model, not {ConfigResolver.FamilyName(f)}", nameof(ConfigOverrides.Family));
        string where = Path.GetFileName(path);
        var file = SafetensorsFile.Open(path);
        try
        {
            if (!file.Metadata.TryGetValue(EckerConfig.MetadataKey, out var json))
                throw new InvalidInputException($"{where}: no '{EckerConfig.MetadataKey}' entry in the safetensors metadata (an e-c-k-e-r/vall-e export states its model config there)");
            var parsed = EckerConfig.Parse(json, where);
            // File order (upstream's state_dict order as exported); a DataParallel 'module.' prefix is dropped.
            var ordered = new OrderedTensorMap();
            foreach (var t in file.Tensors)
            {
                string name = t.Name.StartsWith("module.", StringComparison.Ordinal) ? t.Name["module.".Length..] : t.Name;
                if (ordered.ContainsKey(name)) throw new InvalidInputException($"{where}: tensor '{name}' appears twice");
                ordered.Add(name, name == t.Name ? t : new TensorData(name, t.DType, t.Shape, t.Strides, t.Offset, t.Storage));
            }
            var tensors = ordered;
            var ecker = parsed with { ClassifierNames = EckerLayout.ClassifierNames(parsed.Levels, EckerLayout.CountClassifiers(tensors)) };
            if (ecker.ArchType != "llama")
                throw new InvalidInputException($"{where}: arch_type '{ecker.ArchType}' is not supported (only 'llama', the released models' architecture)");
            EckerLayout.Validate(ecker, tensors, where);
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
            return new ModelCheckpoint(config, sources, ordered, path, "safetensors", FloatDType(ordered.Values), [], file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }
}
