using System.Text.Json;
using VallE.Runtime.Models;
using VallE.Tests.Support;
using VallE.Weights;
using VallE.Weights.NumPy;
using VallE.Weights.Pickle;

namespace VallE.Tests.Engine;

/// <summary>
/// The golden fixtures of shared/fixtures/valle/NAME and their models, loaded once per test run.
/// Checkpoints are opened with ModelCheckpoint.Open (see <see cref="FixtureCheckpoint"/> for valle-tiny's correction).
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
            // VALL-E X files carry no hyper-parameters: the fixture's nhead (4, not VALL-E X's default 16) comes from
            // meta.json, as a user would pass --nhead.
            var ctor = meta.GetProperty("constructor");
            var checkpoint = FixtureCheckpoint.Open(name, new ConfigOverrides
            {
                NHead = ctor.GetProperty("nhead").GetInt32(),
                PrefixMode = ctor.GetProperty("prefix_mode").GetInt32(),
            });
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

/// <summary>
/// Opens a fixture checkpoint with <see cref="ModelCheckpoint.Open"/>, correcting valle-tiny's weights.
/// valle-tiny's checkpoint holds the weights AFTER one AdamW step (its optimizer state has step = 1) while its
/// expected_* files were produced by the weights BEFORE that step. Undoing the step from the stored optimizer state,
/// <c>p_before = (p_after + lr · m̂ / (√v̂ + eps)) / (1 − lr · wd)</c>, reproduces upstream's logits to ~6e-7; the raw
/// weights are off by ~0.03 in the AR logits (and flip NAR codes from codebook 3 on). The engine itself is not
/// involved: this only rebuilds the weights the fixture's outputs came from.
/// </summary>
internal static class FixtureCheckpoint
{
    public static ModelCheckpoint Open(string name, ConfigOverrides overrides)
    {
        string path = TestPaths.RequireShared("valle", name, "checkpoint.pt");
        var checkpoint = ModelCheckpoint.Open(path, overrides);
        using var torch = VallE.Weights.Torch.TorchCheckpoint.Open(path);
        if (torch.Root is not PyDict root || root.GetOrNull("optimizer") is not PyDict optimizer
            || optimizer.GetOrNull("state") is not PyDict { Count: > 0 } state
            || root.GetOrNull("model") is not PyDict model)
            return checkpoint;

        var group = (PyDict)((PyList)optimizer.GetOrNull("param_groups")!)[0]!;
        float lr = (float)(double)group.GetOrNull("lr")!, eps = (float)(double)group.GetOrNull("eps")!;
        float wd = group.GetOrNull("weight_decay") is double w ? (float)w : 0f;
        var betas = (PyTuple)group.GetOrNull("betas")!;
        double b1 = (double)betas[0]!, b2 = (double)betas[1]!;
        var indices = (PyList)group.GetOrNull("params")!;

        // torch's model.parameters() order: state-dict entries minus buffers and tied duplicates.
        var parameters = new List<string>();
        var seen = new HashSet<TensorStorage>(ReferenceEqualityComparer.Instance);
        foreach (var (key, value) in model.Entries)
        {
            string k = (string)key!;
            if (k.EndsWith("running_mean") || k.EndsWith("running_var") || k.EndsWith("num_batches_tracked")) continue;
            if (!seen.Add(((TensorData)value!).Storage)) continue;
            parameters.Add(k.StartsWith("module.") ? k[7..] : k);
        }
        Assert.That(parameters, Has.Count.EqualTo(indices.Count), "optimizer parameter count");

        var tensors = new Dictionary<string, TensorData>(checkpoint.Tensors);
        var corrected = new Dictionary<string, float[]>();
        for (int i = 0; i < indices.Count; i++)
        {
            object? stateKey = indices[i];
            var entry = state.Entries.FirstOrDefault(e => Equals(e.Key, stateKey)).Value as PyDict;
            if (entry is null) continue;
            double step = ((TensorData)entry.GetOrNull("step")!).ToFloat32()[0];
            var m = ((TensorData)entry.GetOrNull("exp_avg")!).ToFloat32();
            var v = ((TensorData)entry.GetOrNull("exp_avg_sq")!).ToFloat32();
            float c1 = (float)(1 - Math.Pow(b1, step)), c2 = (float)(1 - Math.Pow(b2, step));
            var p = checkpoint.Get(parameters[i]).ToFloat32();
            for (int j = 0; j < p.Length; j++)
                p[j] = (p[j] + lr * (m[j] / c1) / (MathF.Sqrt(v[j] / c2) + eps)) / (1 - lr * wd);
            corrected[parameters[i]] = p;
        }
        // Re-tie: every canonical name whose storage is a corrected parameter's gets the corrected values.
        foreach (var (tensorName, t) in checkpoint.Tensors)
        {
            string? owner = corrected.Keys.FirstOrDefault(k => checkpoint.Get(k).IsSameViewAs(t));
            if (owner is null) continue;
            var bytes = new byte[corrected[owner].Length * 4];
            Buffer.BlockCopy(corrected[owner], 0, bytes, 0, bytes.Length);
            var strides = new long[t.Shape.Length];
            long stride = 1;
            for (int d = t.Shape.Length - 1; d >= 0; d--) { strides[d] = stride; stride *= t.Shape[d]; }
            tensors[tensorName] = new TensorData(tensorName, DType.Float32, t.Shape, strides, 0,
                new ArrayTensorStorage(tensorName, DType.Float32, bytes));
        }
        return new ModelCheckpoint(checkpoint.Config, checkpoint.Sources, tensors, checkpoint.SourcePath,
            checkpoint.SourceFormat, checkpoint.SourceDType, checkpoint.OverrideNotes, checkpoint);
    }
}
