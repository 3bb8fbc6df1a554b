using VallE.Weights.IO;
using VallE.Weights.Safetensors;

namespace VallE.Weights;

/// <summary>
/// Writes a checkpoint as a converted folder: <c>model.safetensors</c> (canonical names, each tied tensor stored
/// once) and <c>config.json</c> (<see cref="ConvertedConfig"/>: config, sources, tied aliases, provenance).
/// Lossless at the source dtype; <c>dtype</c> converts floating tensors only (BatchNorm counters stay int64).
/// Converting a converted folder again without a dtype change reproduces both files byte for byte.
/// e-c-k-e-r/vall-e models get upstream's <c>.sft</c> layout in model.safetensors (see <see cref="ConvertEcker"/>).
/// </summary>
public static class CheckpointConverter
{
    public sealed record Summary(string WeightsPath, string ConfigPath, int StoredTensors, int TiedAliases, long Bytes, DType DType);

    /// <summary>
    /// Converts <paramref name="checkpoint"/> into <paramref name="outDir"/>. Both files are written into a temporary
    /// folder first and moved into place only once complete: a new folder appears whole or not at all (a full disk,
    /// a bad tensor or Ctrl-C leave nothing behind, not even parents this call created), and in an existing folder
    /// the two files are replaced together, other files left alone.
    /// </summary>
    public static Summary Convert(ModelCheckpoint checkpoint, string outDir, DType? dtype = null, CancellationToken cancellation = default)
    {
        if (dtype is { } d && !d.IsFloatingPoint())
            throw new ArgumentException($"dtype {d.ShortName()} is not a floating type (f32, f16, bf16)", nameof(dtype));
        if (File.Exists(outDir)) throw new InvalidInputException($"output {outDir} is a file, expected a folder");
        if (checkpoint.Config.Family == ModelFamily.Ecker) return ConvertEcker(checkpoint, outDir, dtype, cancellation);

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

        using (var output = StagedFolder.Create(outDir))
        {
            SafetensorsWriter.Write(Path.Combine(output.Stage, ConvertedConfig.WeightsFileName), items, cancellation: cancellation);
            cancellation.ThrowIfCancellationRequested();
            AtomicFile.WriteAllText(Path.Combine(output.Stage, ConvertedConfig.FileName), config.ToJson());
            cancellation.ThrowIfCancellationRequested();
            output.Commit(ConvertedConfig.WeightsFileName, ConvertedConfig.FileName);
        }
        return new Summary(Path.Combine(outDir, ConvertedConfig.WeightsFileName), Path.Combine(outDir, ConvertedConfig.FileName),
            items.Count, tied.Count, bytes, config.DType);
    }

    /// <summary>
    /// An e-c-k-e-r/vall-e model: model.safetensors is upstream's own <c>.sft</c> layout (upstream's tensor names in
    /// file order, the export's <c>config</c> / <c>userdata</c> / <c>stats</c> metadata passed through as upstream wrote
    /// them), so upstream's loader reads it as it is (<c>--model OUTDIR/model.safetensors</c>); config.json adds our
    /// provenance and a readable copy of the hyper-parameters (checked against the metadata on load). Every tensor is
    /// stored, tied or not: upstream's safetensors writer refuses shared tensors, and ecker exports have none.
    /// </summary>
    private static Summary ConvertEcker(ModelCheckpoint checkpoint, string outDir, DType? dtype, CancellationToken cancellation)
    {
        var metadata = checkpoint.EckerMetadata
            ?? throw new InvalidOperationException("an ecker checkpoint without its upstream metadata (opened by ModelCheckpoint.Open, it has it)");
        var items = new List<SafetensorsWriter.Item>();
        long bytes = 0;
        foreach (var (name, tensor) in checkpoint.Tensors)
        {
            DType target = dtype is { } t && tensor.DType.IsFloatingPoint() ? t : tensor.DType;
            items.Add(new SafetensorsWriter.Item(name, tensor, target));
            bytes += tensor.ElementCount * target.SizeOf();
        }
        var config = new ConvertedConfig
        {
            Config = checkpoint.Config,
            Sources = new Dictionary<string, ConfigSource>(),
            Tied = [],
            DType = dtype ?? checkpoint.SourceDType,
            ConvertedFrom = checkpoint.RecordedOrigin ?? (Path.GetFileName(Path.TrimEndingDirectorySeparator(checkpoint.SourcePath)), checkpoint.SourceFormat, checkpoint.SourceDType),
        };
        using (var output = StagedFolder.Create(outDir))
        {
            SafetensorsWriter.Write(Path.Combine(output.Stage, ConvertedConfig.WeightsFileName), items, metadata, cancellation);
            cancellation.ThrowIfCancellationRequested();
            AtomicFile.WriteAllText(Path.Combine(output.Stage, ConvertedConfig.FileName), config.ToJson());
            cancellation.ThrowIfCancellationRequested();
            output.Commit(ConvertedConfig.WeightsFileName, ConvertedConfig.FileName);
        }
        return new Summary(Path.Combine(outDir, ConvertedConfig.WeightsFileName), Path.Combine(outDir, ConvertedConfig.FileName),
            items.Count, 0, bytes, config.DType);
    }

    /// <summary>
    /// A temporary folder that becomes the output folder on <see cref="Commit"/>; disposing it uncommitted deletes
    /// it and any parent folders it created. For a new output folder the stage is a hidden sibling renamed into
    /// place (one atomic step); for an existing one it is a hidden subfolder whose files are moved over the old ones.
    /// </summary>
    private sealed class StagedFolder : IDisposable
    {
        // Names stay well under the 255-byte file-name limit whatever the output folder is called.
        private const int MaxNameChars = 64;

        private readonly string _target;
        private readonly bool _existed;
        private readonly List<string> _createdParents;
        private bool _committed;

        public string Stage { get; }

        private StagedFolder(string target, bool existed, string stage, List<string> createdParents)
        {
            _target = target;
            _existed = existed;
            Stage = stage;
            _createdParents = createdParents;
        }

        public static StagedFolder Create(string outDir)
        {
            string target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outDir));
            bool existed = Directory.Exists(target);
            string parent = existed ? target : Path.GetDirectoryName(target)!;
            string name = Path.GetFileName(target);
            if (name.Length > MaxNameChars) name = name[..(char.IsHighSurrogate(name[MaxNameChars - 1]) ? MaxNameChars - 1 : MaxNameChars)];
            string stage = Path.Combine(parent, existed ? $".convert.tmp{Random()}" : $".{name}.tmp{Random()}");

            var created = new List<string>();
            for (string? p = parent; p is not null && !Directory.Exists(p); p = Path.GetDirectoryName(p)) created.Insert(0, p);
            var folder = new StagedFolder(target, existed, stage, created);
            try
            {
                foreach (string p in created) Directory.CreateDirectory(p);
                Directory.CreateDirectory(stage);
                return folder;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                folder.Dispose();
                throw new InvalidInputException($"cannot create output folder {outDir}: {e.Message}", e);
            }
        }

        private static string Random() => Guid.NewGuid().ToString("N")[..8];

        /// <summary>Moves the staged <paramref name="files"/> into the output folder.</summary>
        public void Commit(params string[] files)
        {
            try
            {
                if (_existed)
                {
                    foreach (string f in files) File.Move(Path.Combine(Stage, f), Path.Combine(_target, f), overwrite: true);
                    Directory.Delete(Stage);
                }
                else Directory.Move(Stage, _target);
                _committed = true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new InvalidInputException($"cannot move the converted files into {_target}: {e.Message}", e);
            }
        }

        public void Dispose()
        {
            if (_committed) return;
            Try(() => Directory.Delete(Stage, recursive: true));
            // Only folders this call made, deepest first, and only while empty (someone else may have used them).
            for (int i = _createdParents.Count - 1; i >= 0; i--) Try(() => Directory.Delete(_createdParents[i]));
        }

        private static void Try(Action delete)
        {
            try { delete(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }
}
