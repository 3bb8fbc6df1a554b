using VallE.Runtime.Backends;
using VallE.Runtime.Cpu;
using VallE.Weights;

namespace VallE.Runtime.Models.Ecker;

/// <summary>One LLaMA block's weights on a backend: q|k|v and gate|up packed into one linear each.</summary>
internal sealed record EckerLayer(DeviceRmsNorm InputNorm, DeviceLinear Qkv, DeviceLinear O, DeviceRmsNorm PostNorm, DeviceLinear GateUp, DeviceLinear Down);

/// <summary>
/// Every tensor an e-c-k-e-r/vall-e model reads, by upstream's names (<see cref="EckerLayout"/>), handed to a backend:
/// the input tables (<c>text_emb</c>, <c>langs_emb</c>, <c>rvq_l_emb</c>, <c>len_emb</c>, <c>sep</c> as a one-row
/// table, <c>proms_emb</c>, <c>resps_emb</c>), the blocks, <c>model.norm</c> and the split classifiers (with bias).
/// </summary>
internal sealed class EckerWeights : IDisposable
{
    public required EckerConfig Config { get; init; }
    public required DeviceTable Text { get; init; }
    public required DeviceTable? Langs { get; init; }
    public required DeviceTable Rvq { get; init; }
    public required DeviceTable? Len { get; init; }
    public required DeviceTable Sep { get; init; }
    public required DeviceTable[] Proms { get; init; }
    /// <summary><c>resps_emb.embeddings</c>: 0 the AR table (stop row), 1..levels-1 the NAR tables, levels the NAR-len table (mask row) when present.</summary>
    public required DeviceTable[] Resps { get; init; }
    public required EckerLayer[] Layers { get; init; }
    public required DeviceRmsNorm FinalNorm { get; init; }
    public required DeviceLinear[] Classifiers { get; init; }

    public const float RmsEps = 1e-6f;
    public const float RopeTheta = 10000f;

    public static EckerWeights Load(ModelCheckpoint checkpoint, IComputeBackend b, WeightsDType dtype)
    {
        var c = checkpoint.Config.Ecker ?? throw new InvalidInputException("not an ecker checkpoint");
        // experimental.kv_heads is not checked: upstream builds every model with as many key/value heads as query heads,
        // and EckerLayout.Validate already refused k/v projections of any other width.
        if (!c.AudioEmbeddingSums)
            throw new InvalidInputException("experimental.audio_embedding_sums false is not supported yet (the released models sum the levels' embeddings)");
        int d = c.Dim;
        DeviceTable Table(string name)
        {
            var t = checkpoint.Get(name);
            return b.CreateTable(name, t.ToFloat32(), checked((int)t.Shape[0]), d);
        }
        DeviceLinear Packed(string name, WeightsDType type, params string[] parts)
        {
            var w = parts.SelectMany(p => checkpoint.Get(p).ToFloat32()).ToArray();
            return b.CreateLinear(name, w, [], w.Length / d, d, type);
        }
        DeviceRmsNorm Norm(string name) => b.CreateRmsNorm(name, checkpoint.Get(name).ToFloat32(), RmsEps);

        var layers = new EckerLayer[c.Layers];
        for (int i = 0; i < c.Layers; i++)
        {
            string p = $"model.layers.{i}.";
            var down = checkpoint.Get(p + "mlp.down_proj.weight");
            layers[i] = new EckerLayer(
                Norm(p + "input_layernorm.weight"),
                Packed(p + "self_attn.qkv", dtype, p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight"),
                Packed(p + "self_attn.o_proj.weight", dtype, p + "self_attn.o_proj.weight"),
                Norm(p + "post_attention_layernorm.weight"),
                Packed(p + "mlp.gate_up", dtype, p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"),
                b.CreateLinear(p + "mlp.down_proj.weight", down.ToFloat32(), [], d, c.FeedForward, dtype));
        }
        var classifiers = new DeviceLinear[c.ClassifierNames.Count];
        for (int i = 0; i < classifiers.Length; i++)
        {
            string n = $"classifiers.proj.{i}.";
            var w = checkpoint.Get(n + "weight");
            float[] bias = c.ClassifiersBias ? checkpoint.Get(n + "bias").ToFloat32() : [];
            // Heads are float32 whatever the blocks use: they are a small part of the weights and decide every token.
            classifiers[i] = b.CreateLinear(n + "weight", w.ToFloat32(), bias, checked((int)w.Shape[0]), d, WeightsDType.F32);
        }
        int resps = c.Has("len") ? c.Levels + 1 : c.Levels;
        return new EckerWeights
        {
            Config = c,
            Text = Table("text_emb.weight"),
            Langs = c.Langs > 0 ? Table("langs_emb.weight") : null,
            Rvq = Table("rvq_l_emb.weight"),
            Len = c.Has("len") ? Table("len_emb.weight") : null,
            Sep = b.CreateTable("sep", checkpoint.Get("sep").ToFloat32(), 1, d),
            Proms = [.. Enumerable.Range(0, c.Levels).Select(l => Table($"proms_emb.embeddings.{l}.weight"))],
            Resps = [.. Enumerable.Range(0, resps).Select(l => Table($"resps_emb.embeddings.{l}.weight"))],
            Layers = layers,
            FinalNorm = Norm("model.norm.weight"),
            Classifiers = classifiers,
        };
    }

    public void Dispose()
    {
        foreach (var t in new DeviceObject?[] { Text, Langs, Rvq, Len, Sep, FinalNorm }) t?.Dispose();
        foreach (var t in Proms) t.Dispose();
        foreach (var t in Resps) t.Dispose();
        foreach (var l in Layers)
            foreach (var o in new DeviceObject[] { l.InputNorm, l.Qkv, l.O, l.PostNorm, l.GateUp, l.Down }) o.Dispose();
        foreach (var o in Classifiers) o.Dispose();
    }
}
