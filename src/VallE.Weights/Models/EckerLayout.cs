using System.Globalization;

namespace VallE.Weights;

/// <summary>
/// The tensors an e-c-k-e-r/vall-e checkpoint must hold for inference, by upstream's state_dict names, and the
/// check of a file against them. Tensors upstream keeps but inference does not read (<c>tasks_emb</c>,
/// <c>tones_emb</c>, <c>raw_text_emb</c>, <c>dropout_token</c>, ...) are allowed and left alone.
/// </summary>
public static class EckerLayout
{
    private const string Proj = "classifiers.proj.";

    /// <summary>Upstream's classifier names for <paramref name="count"/> heads of a model with <paramref name="levels"/> levels.</summary>
    public static IReadOnlyList<string> ClassifierNames(int levels, int count)
    {
        var names = new List<string> { "AR:0:0" };
        for (int l = 0; l < levels - 1; l++) names.Add($"NAR:{l}:{l + 1}");
        names.Add("NAR:0:0");
        names.Add("stt");
        if (count > names.Count) names.Add("len");
        return names;
    }

    /// <summary>Number of <c>classifiers.proj.N.weight</c> tensors (consecutive from 0).</summary>
    public static int CountClassifiers(IReadOnlyDictionary<string, TensorData> tensors)
    {
        int n = 0;
        while (tensors.ContainsKey(Proj + n.ToString(CultureInfo.InvariantCulture) + ".weight")) n++;
        return n;
    }

    /// <summary>Output rows of classifier <paramref name="name"/>.</summary>
    public static int ClassifierRows(EckerConfig c, string name) => name switch
    {
        "AR:0:0" => c.AudioTokens + 1,
        "stt" => c.PhonemeTokens,
        "len" => EckerConfig.LenClasses,
        _ => c.AudioTokens,
    };

    public static IReadOnlyList<ExpectedTensor> Expected(EckerConfig c)
    {
        int d = c.Dim;
        var list = new List<ExpectedTensor>
        {
            new("text_emb.weight", [c.PhonemeTokens, d]),
            new("rvq_l_emb.weight", [c.Levels, d]),
            new("sep", [d]),
        };
        if (c.Langs > 0) list.Add(new("langs_emb.weight", [c.Langs, d]));
        if (c.Has("len")) list.Add(new("len_emb.weight", [EckerConfig.LenClasses, d]));
        for (int l = 0; l < c.Levels; l++) list.Add(new($"proms_emb.embeddings.{l}.weight", [c.AudioTokens, d]));
        list.Add(new("resps_emb.embeddings.0.weight", [c.AudioTokens + 1, d]));
        for (int l = 1; l < c.Levels; l++) list.Add(new($"resps_emb.embeddings.{l}.weight", [c.AudioTokens, d]));
        if (c.Has("len")) list.Add(new($"resps_emb.embeddings.{c.Levels}.weight", [c.AudioTokens + 1, d]));
        // k/v are [d, d] whatever experimental.kv_heads says: upstream (73833ee, models/base.py and base_v2.py) builds
        // its LlamaConfig with num_key_value_heads = n_heads and never reads kv_heads, so every model it makes is MHA.
        int f = c.FeedForward, kv = d;
        for (int i = 0; i < c.Layers; i++)
        {
            string p = $"model.layers.{i}.";
            list.Add(new(p + "input_layernorm.weight", [d]));
            list.Add(new(p + "self_attn.q_proj.weight", [d, d]));
            list.Add(new(p + "self_attn.k_proj.weight", [kv, d]));
            list.Add(new(p + "self_attn.v_proj.weight", [kv, d]));
            list.Add(new(p + "self_attn.o_proj.weight", [d, d]));
            list.Add(new(p + "post_attention_layernorm.weight", [d]));
            list.Add(new(p + "mlp.gate_proj.weight", [f, d]));
            list.Add(new(p + "mlp.up_proj.weight", [f, d]));
            list.Add(new(p + "mlp.down_proj.weight", [d, f]));
        }
        list.Add(new("model.norm.weight", [d]));
        for (int i = 0; i < c.ClassifierNames.Count; i++)
        {
            int rows = ClassifierRows(c, c.ClassifierNames[i]);
            list.Add(new($"{Proj}{i}.weight", [rows, d]));
            if (c.ClassifiersBias) list.Add(new($"{Proj}{i}.bias", [rows]));
        }
        return list;
    }

    /// <summary>Every missing or mis-shaped tensor at once, in one <see cref="InvalidInputException"/>.</summary>
    public static void Validate(EckerConfig c, IReadOnlyDictionary<string, TensorData> tensors, string where)
    {
        if (!c.SplitClassifiers)
            throw new InvalidInputException($"{where}: experimental.split_classifiers is false; only split classifiers (every released model) are supported");
        // A k_proj narrower than dim is grouped-query attention: a file upstream 73833ee cannot make (see Expected), and
        // one our attention ops cannot run (one head count for q, k and v); say so rather than "mis-shaped".
        if (tensors.TryGetValue("model.layers.0.self_attn.k_proj.weight", out var k) && k.Shape.Length == 2 && k.Shape[1] == c.Dim
            && k.Shape[0] < c.Dim && c.HeadDim > 0 && k.Shape[0] % c.HeadDim == 0)
            throw new InvalidInputException(
                $"{where}: k_proj has {k.Shape[0] / c.HeadDim} key/value heads for {c.Heads} query heads (grouped-query attention, " +
                $"experimental.kv_heads {c.KvHeads}); upstream 73833ee always builds {c.Heads}, and grouped-query attention is not supported");
        var missing = new List<string>();
        var misShaped = new List<string>();
        foreach (var e in Expected(c))
        {
            if (!tensors.TryGetValue(e.Name, out var t)) missing.Add($"'{e.Name}' {e.ShapeText}");
            else if (!t.Shape.AsSpan().SequenceEqual(e.Shape)) misShaped.Add($"'{e.Name}' is [{string.Join(", ", t.Shape)}], expected {e.ShapeText}");
            else if (!t.DType.IsFloatingPoint()) misShaped.Add($"'{e.Name}' is {t.DType.ShortName()}, expected a floating dtype");
        }
        if (missing.Count + misShaped.Count == 0) return;
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"{missing.Count} missing ({string.Join(", ", missing.Take(3))}{(missing.Count > 3 ? ", ..." : "")})");
        if (misShaped.Count > 0) parts.Add($"{misShaped.Count} mis-shaped ({string.Join(", ", misShaped.Take(3))}{(misShaped.Count > 3 ? ", ..." : "")})");
        throw new InvalidInputException(
            $"{where}: does not match the ecker layout of its config (dim {c.Dim}, heads {c.Heads}, layers {c.Layers}, levels {c.Levels}, " +
            $"audio_tokens {c.AudioTokens}, phoneme_tokens {c.PhonemeTokens}): {string.Join("; ", parts)}");
    }
}
