using System.Text.Json;
using VallE.Runtime.Models;
using VallE.Tests.Support;
using VallE.Weights;
using VallE.Weights.NumPy;

namespace VallE.Tests.Models;

/// <summary>
/// The golden fixtures of shared/fixtures/valle/NAME and their models, loaded once per test run.
/// TEMPORARY: until ModelCheckpoint.Open lands (wip/layout), the checkpoint comes from a .npz dump of the
/// state dict made by /usr/bin/python3 + torch into /tmp/model-npz (never committed) and meta.json.
/// </summary>
public sealed class Fixture
{
    public required string Name { get; init; }
    public required string Dir { get; init; }
    public required JsonElement Meta { get; init; }
    public required ModelCheckpoint Checkpoint { get; init; }
    public required ValleModel Model { get; init; }

    public long[] TextTokens => Npy.Read(File("text_tokens.npy")).ToInt64();
    public long[,] PromptCodes => Codes("prompt_codes.npy");
    public int EnrollTokens => Meta.GetProperty("enroll_x_lens").GetInt32();
    public bool IsVallEX => Meta.GetProperty("implementation").GetString() == "vallex";
    public string? PromptLanguage => Meta.TryGetProperty("prompt_language", out var v) ? v.GetString() : null;
    public string? TextLanguage => Meta.TryGetProperty("text_language", out var v) ? v.GetString() : null;

    public string File(string name) => Path.Combine(Dir, name);

    public long[,] Codes(string name) => ToMatrix(Npy.Read(File(name)));

    public GenerationRequest Request(Runtime.Sampling.SamplingOptions? sampling = null) => new()
    {
        TextTokens = TextTokens,
        PromptCodes = PromptCodes,
        EnrollTokens = EnrollTokens,
        PromptLanguage = PromptLanguage,
        TextLanguage = TextLanguage,
        Sampling = sampling ?? new Runtime.Sampling.SamplingOptions { TopK = 1 },
    };

    public static long[,] ToMatrix(NpyArray a)
    {
        var flat = a.ToInt64();
        int rows = (int)a.Shape[0], cols = (int)a.Shape[1];
        var m = new long[rows, cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) m[r, c] = flat[r * cols + c];
        return m;
    }

    private static readonly Dictionary<string, Fixture> Cache = new();

    public static Fixture Get(string name)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(name, out var f)) return f;
            string dir = TestPaths.RequireShared("valle", name);
            var meta = JsonDocument.Parse(System.IO.File.ReadAllText(Path.Combine(dir, "meta.json"))).RootElement;
            var checkpoint = NpzCheckpoint.Open(name, meta);
            f = new Fixture
            {
                Name = name, Dir = dir, Meta = meta, Checkpoint = checkpoint,
                Model = ValleModel.Load(checkpoint, new EngineOptions { Threads = 1 }),
            };
            Cache[name] = f;
            return f;
        }
    }

    public static readonly string[] Names = ["valle-tiny", "vallex-tiny"];
}

/// <summary>TEMPORARY stand-in for ModelCheckpoint.Open: a .npz state dict dumped by torch, plus meta.json.</summary>
internal static class NpzCheckpoint
{
    // valle-tiny's checkpoint holds the weights AFTER one AdamW step (its optimizer state has step=1), while its
    // expected_* files were produced by the weights BEFORE that step. Undoing the step from the stored optimizer
    // state (p_before = (p_after + lr * m̂ / (sqrt(v̂) + eps)) / (1 - lr * wd)) reproduces upstream's logits to 6e-7;
    // the raw weights differ by ~0.03 in the logits. Parameters are the state dict's entries in order, minus tied
    // duplicates and buffers (torch's model.parameters() order).
    private const string DumpScript = """
        import sys, numpy as np, torch
        src, dst = sys.argv[1], sys.argv[2]
        ck = torch.load(src, map_location="cpu")
        sd = ck["model"]
        opt = ck.get("optimizer") if isinstance(ck, dict) else None
        if opt and opt.get("state"):
            group = opt["param_groups"][0]
            lr, wd, eps = group["lr"], group.get("weight_decay", 0.0), group["eps"]
            b1, b2 = group["betas"]
            seen, params = set(), []
            for k, v in sd.items():
                if k.endswith(("running_mean", "running_var", "num_batches_tracked")) or v.storage().data_ptr() in seen:
                    continue
                seen.add(v.storage().data_ptr())
                params.append(v)
            assert len(params) == len(group["params"]), (len(params), len(group["params"]))
            with torch.no_grad():
                for index, p in zip(group["params"], params):
                    st = opt["state"].get(index)
                    if st is None:
                        continue
                    step = float(st["step"])
                    m = st["exp_avg"] / (1 - b1 ** step)
                    v = st["exp_avg_sq"] / (1 - b2 ** step)
                    p.add_(lr * m / (v.sqrt() + eps)).div_(1 - lr * wd)
        np.savez(dst, **{(k[7:] if k.startswith("module.") else k): (v.float() if v.is_floating_point() else v).numpy() for k, v in sd.items()})
        """;

    public static ModelCheckpoint Open(string name, JsonElement meta)
    {
        string npz = Path.Combine(Path.GetTempPath(), "model-npz", name + ".npz");
        if (!File.Exists(npz)) Dump(TestPaths.RequireShared("valle", name, "checkpoint.pt"), npz);
        var arrays = Npy.ReadNpz(npz);
        var tensors = new Dictionary<string, TensorData>();
        foreach (var (key, a) in arrays)
        {
            string tensorName = key.EndsWith(".npy") ? key[..^4] : key;
            var dtype = a.Type switch { NpyType.Float32 => DType.Float32, NpyType.Int64 => DType.Int64, _ => DType.Float32 };
            var strides = new long[a.Shape.Length];
            long stride = 1;
            for (int i = a.Shape.Length - 1; i >= 0; i--) { strides[i] = stride; stride *= a.Shape[i]; }
            tensors[tensorName] = new TensorData(tensorName, dtype, a.Shape, strides, 0, new ArrayTensorStorage(tensorName, dtype, a.Data));
        }
        var ctor = meta.GetProperty("constructor");
        int d = ctor.GetProperty("decoder_dim").GetInt32(), heads = ctor.GetProperty("nhead").GetInt32();
        int layers = ctor.GetProperty("num_decoder_layers").GetInt32();
        double scale = ctor.GetProperty("scale_factor").GetDouble();
        bool vallex = meta.GetProperty("implementation").GetString() == "vallex";
        var config = new ModelConfig
        {
            Family = vallex ? ModelFamily.VallEX : ModelFamily.Valle,
            DModel = d, NHead = heads, NumLayers = layers,
            NarDModel = (int)(d * scale), NarNHead = (int)(heads * scale), NarNumLayers = (int)(layers * scale),
            ScaleFactor = scale,
            NormFirst = ctor.GetProperty("norm_first").GetBoolean(),
            AddPrenet = ctor.GetProperty("add_prenet").GetBoolean(),
            PrefixMode = ctor.GetProperty("prefix_mode").GetInt32(),
            ShareEmbedding = ctor.GetProperty("share_embedding").GetBoolean(),
            PrependBos = ctor.GetProperty("prepend_bos").GetBoolean(),
            NumQuantizers = ctor.GetProperty("num_quantizers").GetInt32(),
            TextVocab = (int)tensors["ar_text_embedding.word_embeddings.weight"].Shape[0],
            NumLanguages = vallex ? 3 : 0,
        };
        return new ModelCheckpoint(config, new Dictionary<string, ConfigSource>(), tensors, npz, "npz", DType.Float32, [], null);
    }

    private static void Dump(string checkpoint, string npz)
    {
        if (!File.Exists("/usr/bin/python3")) Assert.Ignore("needs /usr/bin/python3 with torch to dump the fixture state dict");
        Directory.CreateDirectory(Path.GetDirectoryName(npz)!);
        var psi = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3") { RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(DumpScript);
        psi.ArgumentList.Add(checkpoint);
        psi.ArgumentList.Add(npz);
        psi.Environment["OMP_NUM_THREADS"] = "1";
        using var p = System.Diagnostics.Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) Assert.Ignore("could not dump the fixture state dict with torch: " + err);
    }
}
