using VallE.Runtime.Cpu;
using VallE.Weights;

namespace VallE.Runtime.Models;

/// <summary>One decoder stack (AR or NAR): its layers, the final norm (pre-norm models only) and its width.</summary>
internal sealed class DecoderWeights
{
    public required TransformerLayer[] Layers { get; init; }
    public required RowNorm? FinalNorm { get; init; }
    public required int Dim { get; init; }
    public required int Heads { get; init; }
    public int FeedForwardDim => Layers[0].Linear1.OutFeatures;
}

/// <summary>
/// The weights of a VALL-E / VALL-E X model, typed and packed for the CPU once at load time, named after the
/// upstream modules they come from. Everything the forward passes touch is here; nothing refers back to the file.
/// </summary>
internal sealed class ValleWeights
{
    public required ModelConfig Config { get; init; }

    // AR: text and audio embeddings, positions, optional prenets, decoder, prediction of the next first-codebook token.
    public required Embedding ArTextEmbedding { get; init; }
    public required Embedding ArAudioEmbedding { get; init; }
    public required Embedding? ArLanguageEmbedding { get; init; }
    public required TextPrenet? ArTextPrenet { get; init; }
    public required AudioPrenet? ArAudioPrenet { get; init; }
    public required SinePositions ArTextPosition { get; init; }
    public required SinePositions ArAudioPosition { get; init; }
    public required DecoderWeights ArDecoder { get; init; }
    public required LinearWeights ArPredictLayer { get; init; }

    // NAR: embeddings of codebooks 0..7, stage-conditioned (AdaLN) decoder, one prediction layer per codebook 1..7.
    public required Embedding NarTextEmbedding { get; init; }
    public required Embedding[] NarAudioEmbeddings { get; init; }
    public required Embedding? NarLanguageEmbedding { get; init; }
    public required TextPrenet? NarTextPrenet { get; init; }
    public required AudioPrenet? NarAudioPrenet { get; init; }
    public required SinePositions NarTextPosition { get; init; }
    public required SinePositions NarAudioPosition { get; init; }
    public required DecoderWeights NarDecoder { get; init; }
    public required LinearWeights[] NarPredictLayers { get; init; }

    public static ValleWeights Load(ModelCheckpoint checkpoint, WeightsDType dtype, CpuBackend backend)
    {
        var c = checkpoint.Config;
        if (c.Family == ModelFamily.Vallf)
            throw new InvalidInputException("VALL-F checkpoints (cross-attention decoder) are not supported by this engine yet");
        if (c.NumQuantizers < 2)
            throw new InvalidInputException($"num_quantizers {c.NumQuantizers} is not supported (the engine runs AR + NAR)");
        var loader = new Loader(checkpoint, dtype, backend);
        int d = c.DModel, nd = c.NarDModel;
        bool vallex = c.Family == ModelFamily.VallEX;

        var stageEmbeddings = new float[c.NumQuantizers - 1][];
        for (int s = 0; s < stageEmbeddings.Length; s++)
            stageEmbeddings[s] = loader.Floats($"nar_stage_embeddings.{s}.word_embeddings.weight", 1, nd);

        return new ValleWeights
        {
            Config = c,
            ArTextEmbedding = loader.Embedding("ar_text_embedding", d),
            ArAudioEmbedding = loader.Embedding("ar_audio_embedding", d, c.AudioVocab + 1 + (c.PrependBos ? 1 : 0)),
            ArLanguageEmbedding = vallex ? loader.Embedding("ar_language_embedding", d) : null,
            ArTextPrenet = c.AddPrenet ? loader.TextPrenet("ar_text_prenet", d) : null,
            ArAudioPrenet = c.AddPrenet ? loader.AudioPrenet("ar_audio_prenet", d) : null,
            ArTextPosition = new SinePositions(d, loader.Scalar("ar_text_position.alpha")),
            ArAudioPosition = new SinePositions(d, loader.Scalar("ar_audio_position.alpha")),
            ArDecoder = loader.Decoder("ar_decoder", c.NumLayers, d, c.NHead, c.NormFirst, stageEmbeddings: null),
            ArPredictLayer = loader.Linear("ar_predict_layer", c.AudioVocab + 1, d, bias: false),

            NarTextEmbedding = loader.Embedding("nar_text_embedding", nd),
            NarAudioEmbeddings = Enumerable.Range(0, c.NumQuantizers)
                .Select(j => loader.Embedding($"nar_audio_embeddings.{j}", nd, c.AudioVocab + (j == 0 ? 1 : 0))).ToArray(),
            // VALL-E X builds its NAR language embedding with the AR width (d_model); equal unless scale_factor != 1.
            NarLanguageEmbedding = vallex ? loader.Embedding("nar_language_embedding", d) : null,
            NarTextPrenet = c.AddPrenet ? loader.TextPrenet("nar_text_prenet", nd) : null,
            NarAudioPrenet = c.AddPrenet ? loader.AudioPrenet("nar_audio_prenet", nd) : null,
            NarTextPosition = new SinePositions(nd, loader.Scalar("nar_text_position.alpha")),
            NarAudioPosition = new SinePositions(nd, loader.Scalar("nar_audio_position.alpha")),
            NarDecoder = loader.Decoder("nar_decoder", c.NarNumLayers, nd, c.NarNHead, c.NormFirst, stageEmbeddings),
            NarPredictLayers = Enumerable.Range(0, c.NumQuantizers - 1)
                .Select(j => loader.Linear($"nar_predict_layers.{j}", c.AudioVocab, nd, bias: false)).ToArray(),
        };
    }

    /// <summary>Reads tensors by canonical name, checks their shapes, converts to float32 and packs linears.</summary>
    private sealed class Loader(ModelCheckpoint checkpoint, WeightsDType dtype, CpuBackend backend)
    {
        private readonly float _eps = checkpoint.Config.LayerNormEps;

        public float[] Floats(string name, params long[] shape)
        {
            var t = checkpoint.Get(name);
            if (!t.Shape.AsSpan().SequenceEqual(shape))
                throw new InvalidInputException(
                    $"tensor '{name}' has shape ({string.Join(", ", t.Shape)}), expected ({string.Join(", ", shape)})");
            return t.ToFloat32();
        }

        public float Scalar(string name)
        {
            var t = checkpoint.Get(name);
            if (t.ElementCount != 1) throw new InvalidInputException($"tensor '{name}' should hold one value, has {t.ElementCount}");
            return t.ToFloat32()[0];
        }

        public Embedding Embedding(string module, int dim, int? rows = null)
        {
            string name = module + ".word_embeddings.weight";
            var t = checkpoint.Get(name);
            int n = rows ?? (t.Rank == 2 ? (int)t.Shape[0] : -1);
            return new Embedding(name, Floats(name, n, dim), n, dim);
        }

        public LinearWeights Linear(string module, int outFeatures, int inFeatures, bool bias = true, WeightsDType? as_ = null)
        {
            var w = Floats(module + ".weight", outFeatures, inFeatures);
            var b = bias ? Floats(module + ".bias", outFeatures) : [];
            return LinearWeights.Create(w, b, outFeatures, inFeatures, as_ ?? dtype);
        }

        public LayerNorm LayerNorm(string module, int dim) =>
            new(Floats(module + ".weight", dim), Floats(module + ".bias", dim), _eps);

        public DecoderWeights Decoder(string prefix, int layers, int dim, int heads, bool normFirst, float[][]? stageEmbeddings)
        {
            if (heads <= 0 || dim % heads != 0)
                throw new InvalidInputException($"{prefix}: {heads} heads do not divide the width {dim} (wrong nhead?)");
            int ff = dim * checkpoint.Config.FeedForwardMultiplier;
            var stack = new TransformerLayer[layers];
            for (int l = 0; l < layers; l++)
            {
                string p = $"{prefix}.layers.{l}";
                stack[l] = new TransformerLayer
                {
                    Index = l,
                    Dim = dim,
                    Heads = heads,
                    NormFirst = normFirst,
                    InProj = Linear2(p + ".self_attn.in_proj", 3 * dim, dim),
                    OutProj = Linear(p + ".self_attn.out_proj", dim, dim),
                    Linear1 = Linear(p + ".linear1", ff, dim),
                    Linear2 = Linear(p + ".linear2", dim, ff),
                    Norm1 = Norm(p + ".norm1", dim, stageEmbeddings),
                    Norm2 = Norm(p + ".norm2", dim, stageEmbeddings),
                };
            }
            return new DecoderWeights
            {
                Layers = stack,
                FinalNorm = normFirst ? Norm(prefix + ".norm", dim, stageEmbeddings) : null,
                Dim = dim,
                Heads = heads,
            };
        }

        /// <summary>torch MultiheadAttention stores its packed projection as in_proj_weight / in_proj_bias.</summary>
        private LinearWeights Linear2(string stem, int outFeatures, int inFeatures) =>
            LinearWeights.Create(Floats(stem + "_weight", outFeatures, inFeatures), Floats(stem + "_bias", outFeatures),
                outFeatures, inFeatures, dtype);

        private RowNorm Norm(string module, int dim, float[][]? stageEmbeddings)
        {
            if (stageEmbeddings is null) return LayerNorm(module, dim);
            float[][] both = StageProjection.Compute(backend, Floats(module + ".project_layer.weight", 2 * dim, dim),
                Floats(module + ".project_layer.bias", 2 * dim), dim, stageEmbeddings);
            return new AdaptiveLayerNorm(LayerNorm(module + ".norm", dim), [.. both.Select(b => b[..dim])], [.. both.Select(b => b[dim..])]);
        }

        public TextPrenet TextPrenet(string prefix, int dim)
        {
            const int kernel = 5;
            var blocks = new TextPrenet.ConvBlock[3];
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
                blocks[b] = new TextPrenet.ConvBlock(Floats(conv + ".weight", dim, dim, kernel), Floats(conv + ".bias", dim),
                    scale, shift, dim, kernel);
            }
            return new TextPrenet(blocks, Linear($"{prefix}.14", dim, dim), dim);
        }

        public AudioPrenet AudioPrenet(string prefix, int dim) =>
            new(Linear($"{prefix}.0", 256, dim), Linear($"{prefix}.3", 256, 256), Linear($"{prefix}.6", dim, 256));
    }
}
