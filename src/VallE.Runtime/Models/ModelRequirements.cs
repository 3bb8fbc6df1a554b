using VallE.Runtime.Backends;
using VallE.Runtime.Cpu;
using VallE.Weights;

namespace VallE.Runtime.Models;

/// <summary>The operations a checkpoint needs of a backend, checked before anything is loaded onto it.</summary>
internal static class ModelRequirements
{
    public static IEnumerable<OpRequirement> For(ModelConfig c, WeightsDType dtype)
    {
        yield return new OpRequirement(OpKind.GatherSum);
        yield return new OpRequirement(OpKind.AddPositions);
        yield return new OpRequirement(OpKind.Linear, dtype);
        yield return new OpRequirement(OpKind.Add);
        yield return new OpRequirement(OpKind.Norm);
        yield return new OpRequirement(OpKind.Copy);
        if (c.AddPrenet) yield return new OpRequirement(OpKind.Conv);
        if (c.NHead > 0 && c.DModel % c.NHead == 0)
        {
            yield return new OpRequirement(OpKind.Attention, HeadDim: c.DModel / c.NHead);
            yield return new OpRequirement(OpKind.AttentionDecode, HeadDim: c.DModel / c.NHead);
        }
        if (c.NarNHead > 0 && c.NarDModel % c.NarNHead == 0)
            yield return new OpRequirement(OpKind.Attention, HeadDim: c.NarDModel / c.NarNHead);
        yield return new OpRequirement(OpKind.Sample, Vocab: c.AudioVocab + 1);
        yield return new OpRequirement(OpKind.ArgMax, Vocab: c.AudioVocab);
        yield return new OpRequirement(OpKind.Increment);
    }

    /// <summary>Throws <see cref="InvalidInputException"/> naming the first operation <paramref name="backend"/> lacks.</summary>
    public static void Check(ModelConfig c, WeightsDType dtype, IComputeBackend backend)
    {
        if (Missing(c, dtype, backend) is { } reason) throw new InvalidInputException(reason);
    }

    /// <summary>Why <paramref name="backend"/> cannot run the model, or null when it can.</summary>
    public static string? Missing(ModelConfig c, WeightsDType dtype, IComputeBackend backend)
    {
        foreach (var op in For(c, dtype))
            if (!backend.Supports(op, out string why))
                return $"the {backend.Name} backend cannot run this checkpoint: {op}: {why}";
        return null;
    }
}
