namespace VallE.Weights.Torch;

/// <summary>The torch storage classes and dtype globals a checkpoint may name, mapped to <see cref="DType"/>.</summary>
internal static class TorchTypes
{
    private static readonly Dictionary<string, DType> StorageClasses = new(StringComparer.Ordinal)
    {
        ["FloatStorage"] = DType.Float32, ["HalfStorage"] = DType.Float16, ["BFloat16Storage"] = DType.BFloat16,
        ["DoubleStorage"] = DType.Float64, ["LongStorage"] = DType.Int64, ["IntStorage"] = DType.Int32,
        ["ShortStorage"] = DType.Int16, ["CharStorage"] = DType.Int8, ["ByteStorage"] = DType.UInt8,
        ["BoolStorage"] = DType.Bool,
        // torch >= 1.13 / 2.x: untyped byte storages (a tensor over one carries its dtype in _rebuild_tensor_v3)
        ["UntypedStorage"] = DType.UInt8, ["_UntypedStorage"] = DType.UInt8,
    };

    private static readonly Dictionary<string, DType> DTypeNames = new(StringComparer.Ordinal)
    {
        ["float32"] = DType.Float32, ["float"] = DType.Float32, ["float16"] = DType.Float16, ["half"] = DType.Float16,
        ["bfloat16"] = DType.BFloat16, ["float64"] = DType.Float64, ["double"] = DType.Float64,
        ["int64"] = DType.Int64, ["long"] = DType.Int64, ["int32"] = DType.Int32, ["int"] = DType.Int32,
        ["int16"] = DType.Int16, ["short"] = DType.Int16, ["int8"] = DType.Int8, ["uint8"] = DType.UInt8,
        ["bool"] = DType.Bool,
    };

    /// <summary>torch.FloatStorage, torch.cuda.FloatStorage (old writers), torch.storage.UntypedStorage, ...</summary>
    public static bool TryStorageDType(string module, string name, out DType dtype)
    {
        dtype = default;
        return module is "torch" or "torch.cuda" or "torch.storage" && StorageClasses.TryGetValue(name, out dtype);
    }

    /// <summary>A dtype global (torch.float32, torch.bfloat16, ...).</summary>
    public static bool TryDType(string module, string name, out DType dtype)
    {
        dtype = default;
        return module == "torch" && DTypeNames.TryGetValue(name, out dtype);
    }
}
