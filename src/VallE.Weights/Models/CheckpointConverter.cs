using VallE.Weights.IO;
using VallE.Weights.Safetensors;

namespace VallE.Weights;

/// <summary>
/// Writes a checkpoint as a converted folder: <c>model.safetensors</c> (canonical names, each tied tensor stored
/// once) and <c>config.json</c> (<see cref="ConvertedConfig"/>: config, sources, tied aliases, provenance).
/// Lossless at the source dtype; <c>dtype</c> converts floating tensors only (BatchNorm counters stay int64).
/// Converting a converted folder again without a dtype change reproduces both files byte for byte.
/// </summary>
public static class CheckpointConverter
{
    public sealed record Summary(string WeightsPath, string ConfigPath, int StoredTensors, int TiedAliases, long Bytes, DType DType);

    public static Summary Convert(ModelCheckpoint checkpoint, string outDir, DType? dtype = null)
    {
        if (dtype is { } d && !d.IsFloatingPoint())
            throw new UsageException($"--dtype {d.ShortName()} is not a floating type (f32, f16, bf16)");
        if (File.Exists(outDir)) throw new InvalidInputException($"output {outDir} is a file, expected a folder");
        try
        {
            Directory.CreateDirectory(outDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException($"cannot create output folder {outDir}: {e.Message}", e);
        }

        var items = new List<SafetensorsWriter.Item>();
        var tied = new List<(string Alias, string Target)>();
        var stored = new Dictionary<TensorStorage, List<TensorData>>(ReferenceEqualityComparer.Instance);
        long bytes = 0;
        foreach (var (name, tensor) in checkpoint.Tensors)
        {
            // Any two names viewing the same memory are written once; the later name becomes an alias.
            if (!stored.TryGetValue(tensor.Storage, out var views)) stored[tensor.Storage] = views = [];
            var same = views.FirstOrDefault(v => v.IsSameViewAs(tensor));
            if (same is not null)
            {
                tied.Add((name, same.Name));
                continue;
            }
            views.Add(tensor);
            DType target = dtype is { } t && tensor.DType.IsFloatingPoint() ? t : tensor.DType;
            items.Add(new SafetensorsWriter.Item(name, tensor, target));
            bytes += tensor.ElementCount * target.SizeOf();
        }

        // Keep the original provenance through folder-to-folder copies; record overrides made now.
        var sources = new Dictionary<string, ConfigSource>(checkpoint.RecordedSources ?? checkpoint.Sources, StringComparer.Ordinal);
        foreach (var (name, source) in checkpoint.Sources)
            if (source == ConfigSource.Override) sources[name] = source;
        var config = new ConvertedConfig
        {
            Config = checkpoint.Config,
            Sources = sources,
            Tied = tied,
            DType = dtype ?? checkpoint.SourceDType,
            ConvertedFrom = checkpoint.RecordedOrigin ?? (Path.GetFileName(Path.TrimEndingDirectorySeparator(checkpoint.SourcePath)), checkpoint.SourceFormat, checkpoint.SourceDType),
        };

        string weightsPath = Path.Combine(outDir, ConvertedConfig.WeightsFileName);
        string configPath = Path.Combine(outDir, ConvertedConfig.FileName);
        SafetensorsWriter.Write(weightsPath, items);
        AtomicFile.WriteAllText(configPath, config.ToJson());
        return new Summary(weightsPath, configPath, items.Count, tied.Count, bytes, config.DType);
    }
}
