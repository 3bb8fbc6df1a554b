using System.Globalization;
using VallE.Runtime.Cpu;
using VallE.Runtime.Models;
using VallE.Weights;

namespace VallE.Cli.Commands;

/// <summary>
/// Loads the CPU engine for a command. Weight packing reports values it cannot store (NaN/Inf weights under
/// int8) with an <see cref="ArgumentException"/> that names no tensor; a checkpoint is user input, so this turns
/// that into an <see cref="InvalidInputException"/> (exit 3) naming the first tensor that holds such a value.
/// </summary>
internal static class CpuModelLoader
{
    public static ValleModel Load(ModelCheckpoint checkpoint, EngineOptions options)
    {
        try
        {
            return ValleModel.Load(checkpoint, options);
        }
        catch (ArgumentException e) when (e is not ArgumentOutOfRangeException && FirstNonFinite(checkpoint) is { } bad)
        {
            throw new InvalidInputException(string.Create(CultureInfo.InvariantCulture,
                $"{checkpoint.SourcePath}: tensor '{bad.Name}' holds {bad.Value} at element {bad.Index}, which --weights-dtype {Show(options.WeightsDType)} cannot store"));
        }
    }

    /// <summary>The first non-finite value of a floating-point weight matrix, in name order (error path only: reads every weight).</summary>
    private static (string Name, long Index, float Value)? FirstNonFinite(ModelCheckpoint checkpoint)
    {
        foreach (var (name, tensor) in checkpoint.Tensors.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (tensor.Rank != 2 || !tensor.DType.IsFloatingPoint()) continue;
            float[] values = tensor.ToFloat32();
            for (long i = 0; i < values.Length; i++)
                if (!float.IsFinite(values[i])) return (name, i, values[i]);
        }
        return null;
    }

    private static string Show(WeightsDType dtype) => dtype.ToString().ToLowerInvariant();
}
