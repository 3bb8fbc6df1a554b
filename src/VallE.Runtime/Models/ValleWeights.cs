using VallE.Runtime.Backends;
using VallE.Runtime.Cpu;
using VallE.Weights;

namespace VallE.Runtime.Models;

/// <summary>One upstream TransformerEncoderLayer: packed q/k/v projection, out projection, ReLU FFN, two norms.</summary>
internal sealed record LayerWeights(DeviceLinear InProj, DeviceLinear OutProj, DeviceLinear Linear1, DeviceLinear Linear2,
    DeviceNorm Norm1, DeviceNorm Norm2);

/// <summary>One decoder stack (AR or NAR): its layers, the final norm (pre-norm models only), width and heads.</summary>
internal sealed record DecoderWeights(LayerWeights[] Layers, DeviceNorm? FinalNorm, int Dim, int Heads, bool NormFirst)
{
    public int FeedForwardDim => Layers[0].Linear1.OutFeatures;
}

/// <summary>Upstream's text prenet: three Conv1d(k=5) + BatchNorm + ReLU blocks, then a Linear.</summary>
internal sealed record TextPrenetWeights(DeviceConv[] Blocks, DeviceLinear Linear);

/// <summary>Upstream's audio prenet: Linear(d, 256) → ReLU → Linear(256, 256) → ReLU → Linear(256, d).</summary>
internal sealed record AudioPrenetWeights(DeviceLinear L0, DeviceLinear L3, DeviceLinear L6);

/// <summary>
/// The weights of a VALL-E / VALL-E X model in a backend's memory, named after the upstream modules they come from.
/// Everything the forward passes touch is here; nothing refers back to the file.
/// </summary>
internal sealed class ValleWeights : IDisposable
{
    public required ModelConfig Config { get; init; }

    // AR: text and audio embeddings, positions, optional prenets, decoder, prediction of the next first-codebook token.
    public required DeviceTable ArTextEmbedding { get; init; }
    public required DeviceTable ArAudioEmbedding { get; init; }
    public required DeviceTable? ArLanguageEmbedding { get; init; }
    public required TextPrenetWeights? ArTextPrenet { get; init; }
    public required AudioPrenetWeights? ArAudioPrenet { get; init; }
    public required DevicePositions ArTextPosition { get; init; }
    public required DevicePositions ArAudioPosition { get; init; }
    public required DecoderWeights ArDecoder { get; init; }
    public required DeviceLinear ArPredictLayer { get; init; }

    // NAR: embeddings of codebooks 0..7, stage-conditioned (AdaLN) decoder, one prediction layer per codebook 1..7.
    public required DeviceTable NarTextEmbedding { get; init; }
    public required DeviceTable[] NarAudioEmbeddings { get; init; }
    public required DeviceTable? NarLanguageEmbedding { get; init; }
    public required TextPrenetWeights? NarTextPrenet { get; init; }
    public required AudioPrenetWeights? NarAudioPrenet { get; init; }
    public required DevicePositions NarTextPosition { get; init; }
    public required DevicePositions NarAudioPosition { get; init; }
    public required DecoderWeights NarDecoder { get; init; }
    public required DeviceLinear[] NarPredictLayers { get; init; }

    /// <summary>Every object made on the backend (disposed with the weights).</summary>
    public required IReadOnlyList<DeviceObject> Owned { get; init; }

    /// <summary>
    /// Reads, checks and uploads every tensor; the AdaLN stage projections are computed once here on the CPU
    /// (<see cref="StageProjection"/>), with <paramref name="cpu"/>'s kernels.
    /// </summary>
    public static ValleWeights Load(ModelCheckpoint checkpoint, WeightsDType dtype, IComputeBackend backend, CpuBackend cpu)
    {
        var c = checkpoint.Config;
        if (c.Family == ModelFamily.Ecker)
            throw new InvalidInputException("an e-c-k-e-r/vall-e (ecker) checkpoint: it runs through EckerModel (docs/ecker.md), not this VALL-E engine");
        if (c.Family == ModelFamily.Vallf)
            throw new InvalidInputException("VALL-F checkpoints (cross-attention decoder) are not supported by this engine yet");
        if (c.NumQuantizers < 2)
            throw new InvalidInputException($"num_quantizers {c.NumQuantizers} is not supported (the engine runs AR + NAR)");
        var loader = new Loader(checkpoint, dtype, backend, cpu);
        try
        {
            return loader.Load();
        }
        catch
        {
            foreach (var o in loader.Owned) o.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var o in Owned) o.Dispose();
    }

    /// <summary>Reads tensors by canonical name, checks their shapes, converts to float32 and hands them to the backend.</summary>
    private sealed class Loader(ModelCheckpoint checkpoint, WeightsDType dtype, IComputeBackend backend, CpuBackend cpu)
    {
        private readonly ModelConfig _c = checkpoint.Config;
        public List<DeviceObject> Owned { get; } = [];

        public ValleWeights Load()
        {
            var c = _c;
            int d = c.DModel, nd = c.NarDModel;
            bool vallex = c.Family == ModelFamily.VallEX;
            var stageEmbeddings = new float[c.NumQuantizers - 1][];
            for (int s = 0; s < stageEmbeddings.Length; s++)
                stageEmbeddings[s] = Floats($"nar_stage_embeddings.{s}.word_embeddings.weight", 1, nd);

            return new ValleWeights
            {
                Config = c,
                ArTextEmbedding = Table("ar_text_embedding", d),
                ArAudioEmbedding = Table("ar_audio_embedding", d, c.AudioVocab + 1 + (c.PrependBos ? 1 : 0)),
                ArLanguageEmbedding = vallex ? Table("ar_language_embedding", d) : null,
                ArTextPrenet = c.AddPrenet ? TextPrenet("ar_text_prenet", d) : null,
                ArAudioPrenet = c.AddPrenet ? AudioPrenet("ar_audio_prenet", d) : null,
                ArTextPosition = Positions("ar_text_position", d),
                ArAudioPosition = Positions("ar_audio_position", d),
                ArDecoder = Decoder("ar_decoder", c.NumLayers, d, c.NHead, c.NormFirst, stageEmbeddings: null),
                ArPredictLayer = Linear("ar_predict_layer", c.AudioVocab + 1, d, bias: false),

                NarTextEmbedding = Table("nar_text_embedding", nd),
                NarAudioEmbeddings = Enumerable.Range(0, c.NumQuantizers)
                    .Select(j => Table($"nar_audio_embeddings.{j}", nd, c.AudioVocab + (j == 0 ? 1 : 0))).ToArray(),
                // VALL-E X builds its NAR language embedding with the AR width (d_model); equal unless scale_factor != 1.
                NarLanguageEmbedding = vallex ? Table("nar_language_embedding", d) : null,
                NarTextPrenet = c.AddPrenet ? TextPrenet("nar_text_prenet", nd) : null,
                NarAudioPrenet = c.AddPrenet ? AudioPrenet("nar_audio_prenet", nd) : null,
                NarTextPosition = Positions("nar_text_position", nd),
                NarAudioPosition = Positions("nar_audio_position", nd),
                NarDecoder = Decoder("nar_decoder", c.NarNumLayers, nd, c.NarNHead, c.NormFirst, stageEmbeddings),
                NarPredictLayers = Enumerable.Range(0, c.NumQuantizers - 1)
                    .Select(j => Linear($"nar_predict_layers.{j}", c.AudioVocab, nd, bias: false)).ToArray(),
                Owned = Owned,
            };
        }

        private T Own<T>(T o) where T : DeviceObject
        {
            Owned.Add(o);
            return o;
        }

        private float[] Floats(string name, params long[] shape)
        {
            var t = checkpoint.Get(name);
            if (!t.Shape.AsSpan().SequenceEqual(shape))
                throw new InvalidInputException(
                    $"tensor '{name}' has shape ({string.Join(", ", t.Shape)}), expected ({string.Join(", ", shape)})");
            return t.ToFloat32();
        }

        private float Scalar(string name)
        {
            var t = checkpoint.Get(name);
            if (t.ElementCount != 1) throw new InvalidInputException($"tensor '{name}' should hold one value, has {t.ElementCount}");
            return t.ToFloat32()[0];
        }

        private DevicePositions Positions(string module, int dim) =>
            Own(backend.CreatePositions(module, dim, Scalar(module + ".alpha")));

        private DeviceTable Table(string module, int dim, int? rows = null)
        {
            string name = module + ".word_embeddings.weight";
            var t = checkpoint.Get(name);
            int n = rows ?? (t.Rank == 2 ? (int)t.Shape[0] : -1);
            return Own(backend.CreateTable(name, Floats(name, n, dim), n, dim));
        }

        private DeviceLinear Linear(string module, int outFeatures, int inFeatures, bool bias = true) =>
            Linear(module, module + ".weight", bias ? module + ".bias" : null, outFeatures, inFeatures);

        private DeviceLinear Linear(string name, string weight, string? bias, int outFeatures, int inFeatures)
        {
            var w = Floats(weight, outFeatures, inFeatures);
            var b = bias is null ? [] : Floats(bias, outFeatures);
            return Own(backend.CreateLinear(name, w, b, outFeatures, inFeatures, dtype));
        }

        private DecoderWeights Decoder(string prefix, int layers, int dim, int heads, bool normFirst, float[][]? stageEmbeddings)
        {
            if (heads <= 0 || dim % heads != 0)
                throw new InvalidInputException($"{prefix}: {heads} heads do not divide the width {dim} (wrong nhead?)");
            int ff = dim * _c.FeedForwardMultiplier;
            var stack = new LayerWeights[layers];
            for (int l = 0; l < layers; l++)
            {
                string p = $"{prefix}.layers.{l}";
                stack[l] = new LayerWeights(
                    // torch MultiheadAttention stores its packed projection as in_proj_weight / in_proj_bias.
                    Linear(p + ".self_attn.in_proj", p + ".self_attn.in_proj_weight", p + ".self_attn.in_proj_bias", 3 * dim, dim),
                    Linear(p + ".self_attn.out_proj", dim, dim),
                    Linear(p + ".linear1", ff, dim),
                    Linear(p + ".linear2", dim, ff),
                    Norm(p + ".norm1", dim, stageEmbeddings),
                    Norm(p + ".norm2", dim, stageEmbeddings));
            }
            return new DecoderWeights(stack, normFirst ? Norm(prefix + ".norm", dim, stageEmbeddings) : null, dim, heads, normFirst);
        }

        private DeviceNorm Norm(string module, int dim, float[][]? stageEmbeddings)
        {
            if (stageEmbeddings is null)
                return Own(backend.CreateNorm(module, Floats(module + ".weight", dim), Floats(module + ".bias", dim), _c.LayerNormEps, null));
            float[][] both = StageProjection.Compute(cpu, Floats(module + ".project_layer.weight", 2 * dim, dim),
                Floats(module + ".project_layer.bias", 2 * dim), dim, stageEmbeddings);
            return Own(backend.CreateNorm(module, Floats(module + ".norm.weight", dim), Floats(module + ".norm.bias", dim), _c.LayerNormEps, both));
        }

        private TextPrenetWeights TextPrenet(string prefix, int dim)
        {
            const int kernel = 5;
            var blocks = new DeviceConv[3];
            for (int b = 0; b < 3; b++)
            {
                // nn.Sequential indices: Transpose(0), [Conv(1+4b), BatchNorm(2+4b), ReLU, Dropout] x 3, Transpose(13), Linear(14).
                string conv = $"{prefix}.{1 + 4 * b}", bn = $"{prefix}.{2 + 4 * b}";
                var mean = Floats(bn + ".running_mean", dim);
                var variance = Floats(bn + ".running_var", dim);
                var gamma = Floats(bn + ".weight", dim);
                var beta = Floats(bn + ".bias", dim);
                var scale = new float[dim];
                var shift = new float[dim];
                for (int i = 0; i < dim; i++)
                {
                    scale[i] = gamma[i] / MathF.Sqrt(variance[i] + 1e-5f);
                    shift[i] = beta[i] - mean[i] * scale[i];
                }
                blocks[b] = Own(backend.CreateConv(conv, Floats(conv + ".weight", dim, dim, kernel), Floats(conv + ".bias", dim),
                    scale, shift, dim, kernel));
            }
            return new TextPrenetWeights(blocks, Linear($"{prefix}.14", dim, dim));
        }

        private AudioPrenetWeights AudioPrenet(string prefix, int dim) =>
            new(Linear($"{prefix}.0", 256, dim), Linear($"{prefix}.3", 256, 256), Linear($"{prefix}.6", dim, 256));
    }
}
