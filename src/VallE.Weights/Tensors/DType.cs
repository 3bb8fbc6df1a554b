namespace VallE.Weights;

/// <summary>Element types found in checkpoints.</summary>
public enum DType : byte
{
    Float32,
    Float16,
    BFloat16,
    Float64,
    Int64,
    Int32,
    Int16,
    Int8,
    UInt8,
    Bool,
}

public static class DTypes
{
    public static int SizeOf(this DType t) => t switch
    {
        DType.Float64 or DType.Int64 => 8,
        DType.Float32 or DType.Int32 => 4,
        DType.Float16 or DType.BFloat16 or DType.Int16 => 2,
        _ => 1,
    };

    public static bool IsFloatingPoint(this DType t) =>
        t is DType.Float32 or DType.Float16 or DType.BFloat16 or DType.Float64;

    /// <summary>Short name used on the command line and in config.json: f32, f16, bf16, f64, i64, ...</summary>
    public static string ShortName(this DType t) => t switch
    {
        DType.Float32 => "f32", DType.Float16 => "f16", DType.BFloat16 => "bf16", DType.Float64 => "f64",
        DType.Int64 => "i64", DType.Int32 => "i32", DType.Int16 => "i16", DType.Int8 => "i8",
        DType.UInt8 => "u8", _ => "bool",
    };

    /// <summary>The safetensors dtype string (F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL).</summary>
    public static string SafetensorsName(this DType t) => t switch
    {
        DType.Float32 => "F32", DType.Float16 => "F16", DType.BFloat16 => "BF16", DType.Float64 => "F64",
        DType.Int64 => "I64", DType.Int32 => "I32", DType.Int16 => "I16", DType.Int8 => "I8",
        DType.UInt8 => "U8", _ => "BOOL",
    };

    public static bool TryParseShortName(string s, out DType t)
    {
        foreach (DType candidate in Enum.GetValues<DType>())
        {
            if (string.Equals(candidate.ShortName(), s, StringComparison.OrdinalIgnoreCase))
            {
                t = candidate;
                return true;
            }
        }
        t = default;
        return false;
    }
}
