namespace VallE.Runtime.Cpu;

/// <summary>
/// The packed weight layout every linear kernel reads: output features in panels of <see cref="Width"/>, each panel
/// stored k-major — <c>panel[p][k][j] = W[p·32 + j, k]</c> — so one k-step is 32 adjacent weights (two 512-bit or
/// four 256-bit vectors) that multiply one broadcast input value. A panel is a single sequential stream for the
/// memory-bound decode GEMV, and the B operand of a register-blocked GEMM micro-kernel for long inputs. The last
/// panel is zero-padded to 32 outputs (bias and scale too), so kernels never branch on the output count.
/// (bf16 permutes the 32 weights within a k-step for a cheaper decode: see <see cref="BF16Panel"/>.)
/// </summary>
internal static class PackedPanels
{
    internal const int Width = 32;

    internal static int PanelCount(int outFeatures) => (outFeatures + Width - 1) / Width;

    internal static AlignedBuffer PackF32(ReadOnlySpan<float> weight, int outFeatures, int inFeatures)
    {
        var buffer = new AlignedBuffer((long)PanelCount(outFeatures) * Width * inFeatures * sizeof(float));
        var packed = buffer.AsSpan<float>();
        for (int o = 0; o < outFeatures; o++)
        {
            var row = weight.Slice(o * inFeatures, inFeatures);
            long at = (long)(o / Width) * Width * inFeatures + o % Width;
            for (int k = 0; k < inFeatures; k++, at += Width)
                packed[(int)at] = row[k];
        }
        return buffer;
    }

    internal static AlignedBuffer PackBF16(ReadOnlySpan<float> weight, int outFeatures, int inFeatures)
    {
        var buffer = new AlignedBuffer((long)PanelCount(outFeatures) * Width * inFeatures * sizeof(ushort));
        var packed = buffer.AsSpan<ushort>();
        for (int o = 0; o < outFeatures; o++)
        {
            var row = weight.Slice(o * inFeatures, inFeatures);
            long at = (long)(o / Width) * Width * inFeatures + BF16Panel.Slot(o % Width);
            for (int k = 0; k < inFeatures; k++, at += Width)
                packed[(int)at] = ToBFloat16(row[k]);
        }
        return buffer;
    }

    /// <summary>Symmetric per-output-row int8: <c>scale = max|w| / 127</c>, <c>q = round(w / scale)</c>.</summary>
    internal static AlignedBuffer PackInt8(ReadOnlySpan<float> weight, int outFeatures, int inFeatures, Span<float> scales)
    {
        var buffer = new AlignedBuffer((long)PanelCount(outFeatures) * Width * inFeatures);
        var packed = buffer.AsSpan<sbyte>();
        for (int o = 0; o < outFeatures; o++)
        {
            var row = weight.Slice(o * inFeatures, inFeatures);
            float maxAbs = 0;
            foreach (float w in row)
            {
                if (!float.IsFinite(w))
                    throw new ArgumentException($"weight row {o} holds {w}, which int8 cannot represent");
                maxAbs = MathF.Max(maxAbs, MathF.Abs(w));
            }
            float scale = maxAbs / 127f;
            scales[o] = scale;
            float inverse = scale == 0 ? 0 : 1f / scale;
            long at = (long)(o / Width) * Width * inFeatures + o % Width;
            for (int k = 0; k < inFeatures; k++, at += Width)
                packed[(int)at] = (sbyte)Math.Clamp(MathF.Round(row[k] * inverse), -127f, 127f);
        }
        return buffer;
    }

    /// <summary>float32 to bfloat16, rounding to nearest even (as torch's <c>.to(torch.bfloat16)</c>); NaN stays NaN.</summary>
    internal static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        bits += 0x7FFF + ((bits >> 16) & 1);
        return (ushort)(bits >> 16);
    }

    internal static float FromBFloat16(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);
}
