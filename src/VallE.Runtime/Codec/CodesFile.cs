using VallE.Weights.NumPy;

namespace VallE.Runtime.Codec;

/// <summary>EnCodec codes stored as NumPy <c>.npy</c>: int64 (or int32) <c>[T, 8]</c> (or <c>[1, T, 8]</c>).</summary>
public static class CodesFile
{
    /// <summary>Reads the codes, <c>[frames, 8]</c>.</summary>
    /// <exception cref="InvalidInputException">The file is not a codes array of that shape and type.</exception>
    public static AudioCodes Read(string path)
    {
        NpyArray array = Npy.Read(path);
        long[] shape = array.Shape;
        if (shape.Length == 3 && shape[0] == 1) shape = shape[1..];
        if (shape.Length != 2 || shape[1] != EncodecContract.Quantizers || shape[0] < 1)
            throw new InvalidInputException($"{path}: codes must be [T, {EncodecContract.Quantizers}] (T >= 1), found {array}");
        if (array.Type is not (NpyType.Int64 or NpyType.Int32))
            throw new InvalidInputException($"{path}: codes must be int64 (or int32), found {array.Type}");
        return new AudioCodes(array.ToInt64(), checked((int)shape[0]));
    }
}
