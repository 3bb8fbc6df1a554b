using System.Runtime.InteropServices;
using VallE.Weights;

namespace VallE.Tests.Models;

/// <summary>
/// Builds upstream-shaped state dicts in memory (random values, real ties) for any <see cref="ModelConfig"/>, so
/// layouts, inference, validation and conversion are testable without PyTorch.
/// </summary>
internal static class InMemoryModels
{
    public static ModelConfig Tiny(ModelFamily family = ModelFamily.Valle) => new()
    {
        Family = family,
        DModel = 16,
        NHead = 4,
        NumLayers = 2,
        NarDModel = 16,
        NarNHead = 4,
        NarNumLayers = 2,
        TextVocab = family == ModelFamily.VallEX ? 2048 : 512,
        PrependBos = family == ModelFamily.VallEX,
        NumLanguages = family == ModelFamily.VallEX ? 3 : 0,
        PrefixMode = family == ModelFamily.VallEX ? 1 : 0,
        AudioVocab = 1024,
    };

    /// <summary>Canonical name -> tensor; tied names share one storage when <paramref name="tie"/> and share_embedding.</summary>
    public static Dictionary<string, TensorData> StateDict(ModelConfig config, int seed = 1, bool tie = true)
    {
        var rng = new Random(seed);
        var result = new Dictionary<string, TensorData>(StringComparer.Ordinal);
        var ties = ModelLayout.Ties(config).ToDictionary(t => t.Alias, t => t.Target);
        foreach (var e in ModelLayout.Expected(config))
        {
            if (tie && ties.TryGetValue(e.Name, out string? target)) continue;
            result[e.Name] = e.IsInteger ? Int64(e.Name, e.Shape, rng.Next(1000)) : Float32(e.Name, e.Shape, rng);
        }
        if (tie)
        {
            foreach (var (alias, target) in ties)
            {
                var t = result[target];
                result[alias] = new TensorData(alias, t.DType, t.Shape, t.Strides, t.Offset, t.Storage);
            }
        }
        else
        {
            foreach (var (alias, target) in ties) result[alias] = Copy(result[target], alias);
        }
        return result;
    }

    public static TensorData Float32(string name, long[] shape, Random rng)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var values = new float[n];
        for (int i = 0; i < n; i++) values[i] = (float)(rng.NextDouble() * 2 - 1);
        return FromFloats(name, shape, values);
    }

    public static TensorData FromFloats(string name, long[] shape, float[] values) =>
        new(name, DType.Float32, shape, Strides(shape), 0,
            new ArrayTensorStorage(name, DType.Float32, MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));

    public static TensorData Int64(string name, long[] shape, long value)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var values = Enumerable.Repeat(value, (int)n).ToArray();
        return new(name, DType.Int64, shape, Strides(shape), 0,
            new ArrayTensorStorage(name, DType.Int64, MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));
    }

    public static TensorData Copy(TensorData t, string name) =>
        new(name, t.DType, t.Shape, t.Strides, t.Offset, new ArrayTensorStorage(name, t.DType, t.ContiguousBytes.ToArray()));

    public static long[] Strides(long[] shape) => VallE.Weights.Safetensors.SafetensorsFile.ContiguousStrides(shape);

    /// <summary>A checkpoint object over in-memory tensors, as if opened (no validation).</summary>
    public static ModelCheckpoint Checkpoint(ModelConfig config, Dictionary<string, TensorData> tensors)
    {
        var sources = ConfigResolver.Names.ToDictionary(n => n, _ => ConfigSource.Checkpoint);
        return new ModelCheckpoint(config, sources, tensors, "memory.pt", "torch", DType.Float32, [], null);
    }

    /// <summary>Writes <paramref name="config"/> with random weights as a converted folder and returns its path.</summary>
    public static string WriteFolder(ModelConfig config, string dir, int seed = 1)
    {
        var tensors = StateDict(config, seed);
        var ordered = ModelLayout.Expected(config).ToDictionary(e => e.Name, e => tensors[e.Name]);
        using var ckpt = Checkpoint(config, ordered);
        CheckpointConverter.Convert(ckpt, dir);
        return dir;
    }
}
