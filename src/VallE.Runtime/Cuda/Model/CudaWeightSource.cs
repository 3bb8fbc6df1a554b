using VallE.Weights;

namespace VallE.Runtime.Cuda.Model;

/// <summary>Where the CUDA model reads its float32 tensors from, by canonical (upstream state_dict) name.</summary>
public interface ICudaWeightSource
{
    /// <summary>The tensor <paramref name="name"/> as float32, row-major; throws when it is missing or not of <paramref name="shape"/>.</summary>
    float[] Floats(string name, params long[] shape);

    /// <summary>Throws like <see cref="Floats"/> would, without converting the data when the source can avoid it.</summary>
    void CheckShape(string name, params long[] shape) => Floats(name, shape);
}

/// <summary>Tensors of an opened checkpoint (any dtype, converted to float32), shapes checked.</summary>
public sealed class CheckpointWeightSource(ModelCheckpoint checkpoint) : ICudaWeightSource
{
    public float[] Floats(string name, params long[] shape) => Checked(name, shape).ToFloat32();

    public void CheckShape(string name, params long[] shape) => Checked(name, shape);

    private TensorData Checked(string name, long[] shape)
    {
        var t = checkpoint.Get(name);
        if (!t.Shape.AsSpan().SequenceEqual(shape))
            throw new InvalidInputException(
                $"tensor '{name}' has shape ({string.Join(", ", t.Shape)}), expected ({string.Join(", ", shape)})");
        return t;
    }
}

/// <summary>Tensors held in memory (tests, converted weights), shapes checked.</summary>
public sealed class DictionaryWeightSource(IReadOnlyDictionary<string, float[]> tensors) : ICudaWeightSource
{
    public float[] Floats(string name, params long[] shape)
    {
        if (!tensors.TryGetValue(name, out var values)) throw new InvalidInputException($"tensor '{name}' is missing");
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (values.Length != count) throw new InvalidInputException($"tensor '{name}' has {values.Length} elements, expected {count}");
        return values;
    }
}
