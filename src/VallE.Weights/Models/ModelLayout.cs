namespace VallE.Weights;

/// <summary>One tensor a model of a given <see cref="ModelConfig"/> must have.</summary>
/// <param name="IsBuffer">A BatchNorm statistic, not a trainable parameter (not counted as a parameter).</param>
/// <param name="IsInteger">Stored as an integer (BatchNorm <c>num_batches_tracked</c>); never converted by --dtype.</param>
public sealed record ExpectedTensor(string Name, long[] Shape, bool IsBuffer = false, bool IsInteger = false)
{
    public string ShapeText => $"[{string.Join(", ", Shape)}]";
}

/// <summary>
/// The state_dict upstream's model classes produce for a configuration: every tensor name and shape, in module
/// registration order, and which names are tied. Mirrors lifeiteng/vall-e <c>valle.py</c> (VALLF/VALLE) and
/// Plachtaa <c>vallex.py</c>: embeddings, optional prenets, positional alphas, the AR decoder (LayerNorm) and the
/// NAR decoder (AdaptiveLayerNorm), prediction layers, stage embeddings, VALL-E X language embeddings.
/// </summary>
public static class ModelLayout
{
    /// <summary>Rows of the AR prediction layer and of NAR audio embedding 0: the codebook plus EOS/pad.</summary>
    public static int ArOutputRows(ModelConfig c) => c.AudioVocab + 1;

    public static IReadOnlyList<ExpectedTensor> Expected(ModelConfig c)
    {
        var list = new List<ExpectedTensor>();
        int d = c.DModel, nd = c.NarDModel;
        bool cross = c.Family == ModelFamily.Vallf;
        bool hasNar = c.NumQuantizers > 1;

        Embedding(list, "ar_text_embedding", c.TextVocab, d);
        Embedding(list, "nar_text_embedding", c.TextVocab, nd);
        Embedding(list, "ar_audio_embedding", c.AudioVocab + 1 + (c.PrependBos ? 1 : 0), d);
        if (c.AddPrenet) Prenets(list, "ar", d);
        list.Add(new("ar_text_position.alpha", [1]));
        list.Add(new("ar_audio_position.alpha", [1]));
        Decoder(list, "ar_decoder", d, c.NumLayers, c.FeedForwardMultiplier, c.NormFirst, adaptive: false, cross);
        list.Add(new("ar_predict_layer.weight", [c.AudioVocab + 1, d]));
        if (hasNar)
        {
            Embedding(list, "nar_audio_embeddings.0", c.AudioVocab + 1, nd);
            for (int j = 1; j < c.NumQuantizers; j++) Embedding(list, $"nar_audio_embeddings.{j}", c.AudioVocab, nd);
            if (c.AddPrenet) Prenets(list, "nar", nd);
            list.Add(new("nar_text_position.alpha", [1]));
            list.Add(new("nar_audio_position.alpha", [1]));
            Decoder(list, "nar_decoder", nd, c.NarNumLayers, c.FeedForwardMultiplier, c.NormFirst, adaptive: true, cross);
            for (int j = 0; j < c.NumQuantizers - 1; j++) list.Add(new($"nar_predict_layers.{j}.weight", [c.AudioVocab, nd]));
            for (int j = 0; j < c.NumQuantizers - 1; j++) Embedding(list, $"nar_stage_embeddings.{j}", 1, nd);
        }
        if (c.Family == ModelFamily.VallEX)
        {
            // vallex.py sizes both language embeddings with d_model (not the NAR width).
            Embedding(list, "ar_language_embedding", c.NumLanguages, d);
            Embedding(list, "nar_language_embedding", c.NumLanguages, d);
        }
        return list;
    }

    /// <summary>
    /// Tied names (alias, target) when <c>share_embedding</c>: NAR prediction layer j is the weight of NAR audio
    /// embedding j + 2 (upstream assigns the Parameter, so the state_dict holds one storage under both names).
    /// </summary>
    public static IReadOnlyList<(string Alias, string Target)> Ties(ModelConfig c)
    {
        var ties = new List<(string, string)>();
        if (!c.ShareEmbedding || c.NumQuantizers <= 2) return ties;
        for (int j = 0; j < c.NumQuantizers - 2; j++)
            ties.Add(($"nar_predict_layers.{j}.weight", $"nar_audio_embeddings.{j + 2}.word_embeddings.weight"));
        return ties;
    }

    private static void Embedding(List<ExpectedTensor> list, string name, int rows, int dim) =>
        list.Add(new($"{name}.word_embeddings.weight", [rows, dim]));

    private static void Linear(List<ExpectedTensor> list, string name, int outF, int inF)
    {
        list.Add(new($"{name}.weight", [outF, inF]));
        list.Add(new($"{name}.bias", [outF]));
    }

    private static void LayerNorm(List<ExpectedTensor> list, string name, int d, bool adaptive)
    {
        // AdaptiveLayerNorm: project_layer = Linear(d, 2d) yields the per-stage scale and shift; norm = LayerNorm(d).
        string inner = name;
        if (adaptive)
        {
            Linear(list, $"{name}.project_layer", 2 * d, d);
            inner = $"{name}.norm";
        }
        list.Add(new($"{inner}.weight", [d]));
        list.Add(new($"{inner}.bias", [d]));
    }

    private static void Attention(List<ExpectedTensor> list, string name, int d)
    {
        list.Add(new($"{name}.in_proj_weight", [3 * d, d]));
        list.Add(new($"{name}.in_proj_bias", [3 * d]));
        Linear(list, $"{name}.out_proj", d, d);
    }

    private static void Decoder(List<ExpectedTensor> list, string prefix, int d, int layers, int ffMult,
        bool normFirst, bool adaptive, bool cross)
    {
        for (int i = 0; i < layers; i++)
        {
            string p = $"{prefix}.layers.{i}";
            Attention(list, $"{p}.self_attn", d);
            if (cross) Attention(list, $"{p}.multihead_attn", d);
            Linear(list, $"{p}.linear1", ffMult * d, d);
            Linear(list, $"{p}.linear2", d, ffMult * d);
            for (int k = 1; k <= (cross ? 3 : 2); k++) LayerNorm(list, $"{p}.norm{k}", d, adaptive);
        }
        // Pre-norm stacks end with a final norm; post-norm ones have none.
        if (normFirst) LayerNorm(list, $"{prefix}.norm", d, adaptive);
    }

    private static void Prenets(List<ExpectedTensor> list, string prefix, int d)
    {
        // Text prenet: Sequential(Transpose, [Conv1d(k=5), BatchNorm1d, ReLU, Dropout] x 3, Transpose, Linear).
        foreach (var (conv, bn) in new[] { (1, 2), (5, 6), (9, 10) })
        {
            list.Add(new($"{prefix}_text_prenet.{conv}.weight", [d, d, 5]));
            list.Add(new($"{prefix}_text_prenet.{conv}.bias", [d]));
            list.Add(new($"{prefix}_text_prenet.{bn}.weight", [d]));
            list.Add(new($"{prefix}_text_prenet.{bn}.bias", [d]));
            list.Add(new($"{prefix}_text_prenet.{bn}.running_mean", [d], IsBuffer: true));
            list.Add(new($"{prefix}_text_prenet.{bn}.running_var", [d], IsBuffer: true));
            list.Add(new($"{prefix}_text_prenet.{bn}.num_batches_tracked", [], IsBuffer: true, IsInteger: true));
        }
        Linear(list, $"{prefix}_text_prenet.14", d, d);
        // Audio prenet: Linear(d, 256), ReLU, Dropout, Linear(256, 256), ReLU, Dropout, Linear(256, d).
        Linear(list, $"{prefix}_audio_prenet.0", 256, d);
        Linear(list, $"{prefix}_audio_prenet.3", 256, 256);
        Linear(list, $"{prefix}_audio_prenet.6", d, 256);
    }
}
