using VallE.Weights.Pickle;
using VallE.Weights.Safetensors;
using VallE.Weights.Torch;

namespace VallE.Weights;

public sealed partial class ModelCheckpoint
{
    /// <summary>
    /// Opens a checkpoint for inference: a PyTorch <c>.pt</c> (state dict at <c>root["model"]</c>, or the root itself
    /// when it is a dict of tensors; <c>module.</c> prefixes stripped), a converted folder (model.safetensors +
    /// config.json), or a bare <c>.safetensors</c> with config.json beside it. e-c-k-e-r/vall-e models: upstream's
    /// export as <c>.sft</c> / <c>.safetensors</c> (config in the metadata) or <c>.pt</c> (<c>{"module", "config", ...}</c>),
    /// and the folders <c>convert</c> makes of them (docs/ecker.md). Resolves the hyper-parameters
    /// (override &gt; stored &gt; inferred &gt; default) and validates every tensor name and shape against them.
    /// Throws <see cref="InvalidInputException"/> for anything unreadable, foreign or inconsistent, and
    /// <see cref="ArgumentException"/> (<see cref="ArgumentException.ParamName"/> = the <see cref="ConfigOverrides"/>
    /// property) when an override cannot apply to this model.
    /// </summary>
    public static ModelCheckpoint Open(string path, ConfigOverrides? overrides = null)
    {
        overrides ??= ConfigOverrides.None;
        if (Directory.Exists(path))
            return OpenSafetensorsFile(Path.Combine(path, ConvertedConfig.WeightsFileName), path, overrides);
        if (!File.Exists(path)) throw new InvalidInputException($"checkpoint not found: {path}");
        if (path.EndsWith(".sft", StringComparison.OrdinalIgnoreCase))
            return OpenEcker(path, overrides);
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            return OpenSafetensorsFile(path, path, overrides);
        return OpenTorch(path, overrides);
    }

    /// <summary>
    /// A model.safetensors (in a folder or named directly): the config.json beside it decides the family (VALL-E
    /// folders and ecker folders written by <c>convert</c>); without one, an upstream ecker export is recognised by
    /// its metadata.
    /// </summary>
    private static ModelCheckpoint OpenSafetensorsFile(string weightsPath, string sourcePath, ConfigOverrides overrides)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(weightsPath)) ?? ".";
        string configPath = Path.Combine(dir, ConvertedConfig.FileName);
        if (File.Exists(configPath))
        {
            if (ConvertedConfig.ReadEcker(configPath) is { } converted)
            {
                if (!File.Exists(weightsPath))
                    throw new InvalidInputException($"no {ConvertedConfig.WeightsFileName} in {dir} (a converted checkpoint folder holds {ConvertedConfig.WeightsFileName} and {ConvertedConfig.FileName})");
                return OpenEcker(weightsPath, overrides, sourcePath, converted.ConvertedFrom, converted.Check);
            }
        }
        else if (File.Exists(weightsPath) && IsEckerFile(weightsPath))
            return OpenEcker(weightsPath, overrides, sourcePath);
        return OpenSafetensors(weightsPath, sourcePath, overrides);
    }

    /// <summary>Distinct parameters (tied tensors once, BatchNorm statistics not counted), as <c>sum(p.numel() for p in model.parameters())</c>.</summary>
    public long ParameterCount
    {
        get
        {
            if (Config.Family == ModelFamily.Ecker) return Tensors.Values.Sum(t => t.ElementCount);
            var buffers = ModelLayout.Expected(Config).Where(e => e.IsBuffer).Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
            var seen = new HashSet<(TensorStorage, long)>();
            long total = 0;
            foreach (var (name, t) in Tensors)
            {
                if (buffers.Contains(name) || !seen.Add((t.Storage, t.Offset))) continue;
                total += t.ElementCount;
            }
            return total;
        }
    }

    /// <summary>Tied pairs (alias, target) in this checkpoint: the layout's ties whose tensors really share memory.</summary>
    public IReadOnlyList<(string Alias, string Target)> TiedTensors => Config.Family == ModelFamily.Ecker ? [] :
        ModelLayout.Ties(Config).Where(t => Tensors.TryGetValue(t.Alias, out var a) && Tensors.TryGetValue(t.Target, out var b) && a.IsSameViewAs(b)).ToList();

    /// <summary>
    /// For a converted folder: where each value came from when the original checkpoint was first resolved (its
    /// <see cref="Sources"/> say "checkpoint", since config.json now states them). Null for a .pt. Carried
    /// through re-conversion.
    /// </summary>
    public IReadOnlyDictionary<string, ConfigSource>? RecordedSources { get; private init; }
    /// <summary>For a converted folder: file name, format and dtype of the checkpoint first converted; null for a .pt.</summary>
    public (string File, string Format, DType DType)? RecordedOrigin { get; private init; }

    private static ModelCheckpoint OpenTorch(string path, ConfigOverrides overrides)
    {
        var torch = TorchCheckpoint.Open(path);
        try
        {
            // e-c-k-e-r/vall-e's own forms ({"module": ..., "config": ...}) first; everything else is a VALL-E candidate.
            if (TryOpenEckerTorch(torch, path, overrides) is { } ecker) return ecker;
            var (stateDict, stored) = FindStateDict(torch.Root);
            var tensors = CanonicalTensors(stateDict);
            return Build(tensors, stored, overrides, path, "torch", torch, recordedSources: null, recordedOrigin: null);
        }
        catch
        {
            torch.Dispose();
            throw;
        }
    }

    private static (PyDict StateDict, HyperParameters Stored) FindStateDict(object? root)
    {
        if (root is not PyDict dict)
            throw new InvalidInputException($"not a VALL-E checkpoint: the pickled root is {Describe(root)}, expected a dict");
        // icefall / VALL-E X: {"model": state_dict, ...hyper-parameters}; some trainers use "state_dict".
        foreach (string key in new[] { "model", "state_dict" })
        {
            if (dict.TryGet(key, out var inner) && inner is PyDict sd && sd.Entries.Any(e => e.Value is TensorData))
                return (sd, HyperParameters.FromIcefall(dict));
        }
        if (dict.Count > 0 && dict.Entries.All(e => e.Value is TensorData)) return (dict, HyperParameters.Empty);
        string keys = string.Join(", ", dict.Entries.Take(5).Select(e => PyRepr.Of(e.Key)));
        throw new InvalidInputException($"not a VALL-E checkpoint: no 'model' state dict and the root is not a dict of tensors (keys: {keys}{(dict.Count > 5 ? ", ..." : "")})");
    }

    private static string Describe(object? value) => value switch
    {
        null => "None",
        PyList => "a list",
        PyTuple => "a tuple",
        TensorData t => $"a tensor {t.DType.ShortName()}[{string.Join(", ", t.Shape)}]",
        PyInert inert => $"an object of {inert.QualifiedName}",
        _ => $"a {value.GetType().Name}",
    };

    private static Dictionary<string, TensorData> CanonicalTensors(PyDict stateDict)
    {
        var tensors = new Dictionary<string, TensorData>(StringComparer.Ordinal);
        foreach (var (key, value) in stateDict.Entries)
        {
            if (key is not string name) throw new InvalidInputException($"state dict key {PyRepr.Of(key)} is not a string");
            if (value is not TensorData t) throw new InvalidInputException($"state dict entry '{name}' is {Describe(value)}, not a tensor");
            // DataParallel / DDP wrap the model as `module`; torch.compile as `_orig_mod`.
            string canonical = name;
            while (true)
            {
                if (canonical.StartsWith("module.", StringComparison.Ordinal)) canonical = canonical["module.".Length..];
                else if (canonical.StartsWith("_orig_mod.", StringComparison.Ordinal)) canonical = canonical["_orig_mod.".Length..];
                else break;
            }
            if (!tensors.TryAdd(canonical, Rename(t, canonical)))
                throw new InvalidInputException($"state dict has '{canonical}' twice (with and without a 'module.' / '_orig_mod.' prefix)");
        }
        return tensors;
    }

    /// <summary>The same view under another name (same storage object, so ties survive).</summary>
    private static TensorData Rename(TensorData t, string name) =>
        t.Name == name ? t : new TensorData(name, t.DType, t.Shape, t.Strides, t.Offset, t.Storage);

    private static ModelCheckpoint OpenSafetensors(string weightsPath, string sourcePath, ConfigOverrides overrides)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(weightsPath)) ?? ".";
        if (!File.Exists(weightsPath))
            throw new InvalidInputException($"no {ConvertedConfig.WeightsFileName} in {dir} (a converted checkpoint folder holds {ConvertedConfig.WeightsFileName} and {ConvertedConfig.FileName})");
        var (stored, recordedSources, tied, origin) = ConvertedConfig.Read(Path.Combine(dir, ConvertedConfig.FileName));
        var file = SafetensorsFile.Open(weightsPath);
        try
        {
            var tensors = new Dictionary<string, TensorData>(file.ByName, StringComparer.Ordinal);
            foreach (var (alias, target) in tied)
            {
                if (tensors.ContainsKey(alias))
                    throw new InvalidInputException($"{ConvertedConfig.FileName}: tied tensor '{alias}' is also stored in {Path.GetFileName(weightsPath)}");
                if (!file.ByName.TryGetValue(target, out var t))
                    throw new InvalidInputException($"{ConvertedConfig.FileName}: tied tensor '{alias}' names '{target}', which {Path.GetFileName(weightsPath)} does not hold");
                tensors[alias] = Rename(t, alias);
            }
            return Build(tensors, stored, overrides, sourcePath, "safetensors", file, recordedSources, origin);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static ModelCheckpoint Build(Dictionary<string, TensorData> tensors, HyperParameters stored, ConfigOverrides overrides,
        string path, string format, IDisposable owner, IReadOnlyDictionary<string, ConfigSource>? recordedSources,
        (string, string, DType)? recordedOrigin)
    {
        var resolved = ConfigResolver.Resolve(tensors, stored, overrides);
        LayoutValidator.Validate(resolved.Config, tensors);
        // Canonical order = upstream registration order, whatever order the file used.
        var ordered = new OrderedTensorMap();
        foreach (var e in ModelLayout.Expected(resolved.Config)) ordered.Add(e.Name, tensors[e.Name]);
        return new ModelCheckpoint(resolved.Config, resolved.Sources, ordered, path, format, FloatDType(ordered.Values),
            resolved.OverrideNotes, owner)
        {
            RecordedSources = recordedSources,
            RecordedOrigin = recordedOrigin,
        };
    }

    /// <summary>The dtype most floating weights have (by element count); f32 when there are none.</summary>
    private static DType FloatDType(IEnumerable<TensorData> tensors) =>
        tensors.Where(t => t.DType.IsFloatingPoint()).GroupBy(t => t.DType)
            .OrderByDescending(g => g.Sum(t => t.ElementCount)).Select(g => g.Key).DefaultIfEmpty(DType.Float32).First();
}
