using System.Diagnostics;
using System.Text.Json;
using VallE.Tests.Support;
using VallE.Weights;
using VallE.Weights.NumPy;
using VallE.Weights.Safetensors;

namespace VallE.Tests.Ecker;

/// <summary>
/// Upstream's <c>.pt</c> forms of an e-c-k-e-r/vall-e model (written from the fixtures' fp32.sft by our
/// tools/make_ecker_pt.py with the local torch, in the structure upstream's export saves) and <c>valle convert</c>
/// of ecker checkpoints: identical tensors, the fixtures' greedy codes, clear refusals of forms without a config.
/// The torch-dependent tests are skipped when /usr/bin/python3 has no torch.
/// </summary>
[NonParallelizable]
public sealed class EckerConvertTests
{
    private static readonly string[] Fixtures = ["arnar_d64", "narlen_d96"];
    private TempDir? _dir;
    private string? _skip;

    private static string Fixture(string name, string file) => TestPaths.RequireShared("ecker", name, file);

    [OneTimeSetUp]
    public void Generate()
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python)) { _skip = $"{python} not found: cannot write the .pt forms"; return; }
        if (!Directory.Exists(Path.Combine(TestPaths.Fixtures, "ecker"))) return; // RequireShared skips each test
        _dir = TestPaths.CreateTempDir();
        foreach (string name in Fixtures)
        {
            var psi = new ProcessStartInfo(python) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            psi.ArgumentList.Add(Path.Combine(TestPaths.RepoRoot, "tools", "make_ecker_pt.py"));
            psi.ArgumentList.Add(Fixture(name, "fp32.sft"));
            psi.ArgumentList.Add(Path.Combine(_dir.Path, name));
            psi.Environment["OMP_NUM_THREADS"] = "1";
            using var p = Process.Start(psi)!;
            string err = p.StandardError.ReadToEnd();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0 && err.Contains("No module named 'torch'")) { _skip = $"{python} has no torch module: cannot write the .pt forms"; return; }
            Assert.That(p.ExitCode, Is.EqualTo(0), err);
        }
    }

    [OneTimeTearDown]
    public void Cleanup() => _dir?.Dispose();

    private string Pt(string fixture, string file)
    {
        Fixture(fixture, "fp32.sft");
        if (_skip is not null) Assert.Ignore(_skip);
        return Path.Combine(_dir!.Path, fixture, file);
    }

    /// <summary>CLI arguments that reproduce the fixture's expected_codes.npy greedily (as EckerGenerateCommandTests).</summary>
    private static string[] GreedyArgs(string fixture) => fixture == "arnar_d64"
        ? ["--temperature", "0", "--text-language", "en"]
        : ["--mode", "nar-len", "--length", "16", "--demask-steps", "8", "--text-language", "2", "--temperature", "0"];

    private static long[] Generate(string checkpoint, string fixture, string output, out long[] shape)
    {
        var r = CliRunner.Run([
            "generate", "--checkpoint", checkpoint, "--text-tokens", Fixture(fixture, "text.npy"),
            "--prompt-codes", Fixture(fixture, "prompt_codes.npy"), "--codes-out", output, "--threads", "2", .. GreedyArgs(fixture),
        ]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        var a = Npy.Read(output);
        shape = a.Shape;
        return a.ToInt64();
    }

    private static long[] Expected(string fixture) => Npy.Read(Fixture(fixture, "expected_codes.npy")).ToInt64();

    /// <summary>Same hyper-parameters, classifiers, capabilities (the values inspect and config.json show).</summary>
    private static void AssertSameConfig(EckerConfig a, EckerConfig b)
    {
        Assert.That(ConvertedConfig.EckerValues(b).Select(v => (v.Name, v.Value.ToString())),
            Is.EqualTo(ConvertedConfig.EckerValues(a).Select(v => (v.Name, v.Value.ToString()))));
        Assert.That(b.Capabilities, Is.EqualTo(a.Capabilities));
        Assert.That(b.ClassifierNames, Is.EqualTo(a.ClassifierNames));
        Assert.That(b.Experts, Is.EqualTo(a.Experts));
    }

    private static void AssertBitIdentical(ModelCheckpoint expected, ModelCheckpoint actual)
    {
        Assert.That(actual.Tensors.Keys.Order(StringComparer.Ordinal), Is.EqualTo(expected.Tensors.Keys.Order(StringComparer.Ordinal)));
        foreach (var (name, t) in expected.Tensors)
        {
            var u = actual.Get(name);
            Assert.That(u.DType, Is.EqualTo(t.DType), name);
            Assert.That(u.Shape, Is.EqualTo(t.Shape), name);
            var x = t.ToFloat32();
            var y = u.ToFloat32();
            for (int i = 0; i < x.Length; i++)
                if (BitConverter.SingleToInt32Bits(x[i]) != BitConverter.SingleToInt32Bits(y[i]))
                    Assert.Fail($"{name}[{i}]: {x[i]} vs {y[i]}");
        }
    }

    // ---- upstream's .pt forms ----

    [TestCaseSource(nameof(Fixtures))]
    public void ExportPtLoadsToTheSftTensorsAndConfig(string fixture)
    {
        using var sft = ModelCheckpoint.Open(Fixture(fixture, "fp32.sft"));
        using var pt = ModelCheckpoint.Open(Pt(fixture, "fp32.pt"));
        Assert.That(pt.Config.Family, Is.EqualTo(ModelFamily.Ecker));
        Assert.That(pt.SourceFormat, Is.EqualTo("torch"));
        Assert.That(pt.SourceDType, Is.EqualTo(DType.Float32));
        AssertSameConfig(sft.Config.Ecker!, pt.Config.Ecker!);
        AssertBitIdentical(sft, pt);
        // The pickled config / userdata / stats become the JSON an upstream .sft stores.
        var meta = pt.EckerMetadata!;
        Assert.That(meta.Keys.Order(StringComparer.Ordinal), Is.EqualTo(new[] { "config", "stats", "userdata" }));
        using (var a = JsonDocument.Parse(sft.EckerMetadata!["config"]))
        using (var b = JsonDocument.Parse(meta["config"]))
            Assert.That(JsonElement.DeepEquals(a.RootElement, b.RootElement), Is.True, meta["config"]);
        using (var a = JsonDocument.Parse(sft.EckerMetadata!["userdata"]))
        using (var b = JsonDocument.Parse(meta["userdata"]))
            Assert.That(JsonElement.DeepEquals(a.RootElement, b.RootElement), Is.True);
    }

    [TestCaseSource(nameof(Fixtures))]
    public void ExportPtGivesTheFixturesGreedyCodes(string fixture)
    {
        using var tmp = TestPaths.CreateTempDir();
        var codes = Generate(Pt(fixture, "fp32.pt"), fixture, tmp.File("codes.npy"), out _);
        Assert.That(codes, Is.EqualTo(Expected(fixture)));
    }

    [Test]
    public void SixteenBitPtFormsLoadAndEqualOurOwnRounding()
    {
        // `vall_e.export --dtype bfloat16` casts with torch; our convert --dtype bf16 of the f32 file must give the same bits.
        using var tmp = TestPaths.CreateTempDir();
        using (var sft = ModelCheckpoint.Open(Fixture("arnar_d64", "fp32.sft")))
        {
            CheckpointConverter.Convert(sft, tmp.File("bf16"), DType.BFloat16);
            CheckpointConverter.Convert(sft, tmp.File("f16"), DType.Float16);
        }
        foreach (var (file, folder, dtype) in new[] { ("bf16.pt", "bf16", DType.BFloat16), ("f16.pt", "f16", DType.Float16) })
        {
            using var torch = ModelCheckpoint.Open(Pt("arnar_d64", file));
            using var ours = ModelCheckpoint.Open(tmp.File(folder));
            Assert.That(torch.SourceDType, Is.EqualTo(dtype));
            Assert.That(ours.SourceDType, Is.EqualTo(dtype));
            AssertBitIdentical(torch, ours);
        }
        var codes = Generate(Pt("arnar_d64", "bf16.pt"), "arnar_d64", tmp.File("codes.npy"), out var shape);
        Assert.That(shape[1], Is.EqualTo(8));
        Assert.That(codes, Has.All.InRange(0L, 1023L));
    }

    [Test]
    public void ConfigWithAPathAndPrefixedNamesLoad()
    {
        using var sft = ModelCheckpoint.Open(Fixture("arnar_d64", "fp32.sft"));
        using (var withPath = ModelCheckpoint.Open(Pt("arnar_d64", "path.pt")))
        {
            // Config.from_model puts a pathlib path into the config; it becomes its string, as a JSON reader wants.
            using var doc = JsonDocument.Parse(withPath.EckerMetadata!["config"]);
            Assert.That(doc.RootElement.GetProperty("path").GetString(), Is.EqualTo("/models/ar+nar/fp32.sft"));
        }
        using var prefixed = ModelCheckpoint.Open(Pt("arnar_d64", "prefixed.pt"));
        AssertBitIdentical(sft, prefixed);
    }

    [Test]
    public void OddConfigValuesLoadAndAMismatchedConfigIsALayoutError()
    {
        using (var odd = ModelCheckpoint.Open(Pt("arnar_d64", "odd.pt")))
        {
            using var config = JsonDocument.Parse(odd.EckerMetadata!["config"]);
            var loss = config.RootElement.GetProperty("loss_factors");
            Assert.That(loss.GetProperty("text").ValueKind, Is.EqualTo(JsonValueKind.Null), "inf has no JSON form");
            Assert.That(loss.GetProperty("3").ValueKind, Is.EqualTo(JsonValueKind.Null), "a non-string key becomes its repr");
            Assert.That(config.RootElement.GetProperty("kwargs").GetProperty("shape").GetRawText(), Is.EqualTo("[1,2]"));
            using var userdata = JsonDocument.Parse(odd.EckerMetadata!["userdata"]);
            Assert.That(userdata.RootElement.GetProperty("probe").ValueKind, Is.EqualTo(JsonValueKind.Null), "a tensor outside the state dict");
        }
        var e = Assert.Throws<InvalidInputException>(() => ModelCheckpoint.Open(Pt("arnar_d64", "mismatch.pt")).Dispose());
        Assert.That(e!.Message, Does.Contain("mismatch.pt").And.Contain("does not match the ecker layout").And.Contain("dim 128"));
    }

    [TestCase("state.pth", "without its model config")]
    [TestCase("bare.pt", "without its model config")]
    [TestCase("lora.pt", "LoRA weights")]
    [TestCase("loraconfig.pt", "LoRA config")]
    public void FormsWithoutAUsableConfigAreRefusedClearly(string file, string message)
    {
        var e = Assert.Throws<InvalidInputException>(() => ModelCheckpoint.Open(Pt("arnar_d64", file)).Dispose());
        Assert.That(e!.Message, Does.Contain(message).And.Contain(file));
        if (message.Contains("config", StringComparison.Ordinal) && file != "loraconfig.pt")
            Assert.That(e.Message, Does.Contain("vall_e.export"));
        var r = CliRunner.Run(["inspect", Pt("arnar_d64", file)]);
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
    }

    [Test]
    public void TrainerSftWithoutConfigNamesTheExport()
    {
        // Upstream's state.sft: the tensors and only 'stats' in the metadata.
        using var tmp = TestPaths.CreateTempDir();
        string path = tmp.File("state.sft");
        using (var f = SafetensorsFile.Open(Fixture("arnar_d64", "fp32.sft")))
            SafetensorsWriter.Write(path, f.Tensors.Select(t => new SafetensorsWriter.Item(t.Name, t, t.DType)).ToList(),
                new Dictionary<string, string> { ["stats"] = f.Metadata["stats"] });
        var e = Assert.Throws<InvalidInputException>(() => ModelCheckpoint.Open(path).Dispose());
        Assert.That(e!.Message, Does.Contain("'config'").And.Contain("vall_e.export"));
    }

    [Test]
    public void VallEOverridesDoNotApplyToAnEckerPt()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelCheckpoint.Open(Pt("arnar_d64", "fp32.pt"), new ConfigOverrides { NHead = 2 }).Dispose());
        Assert.That(e!.ParamName, Is.EqualTo(nameof(ConfigOverrides.NHead)));
    }

    /// <summary>Upstream's data/config.yaml says <c>size: "full"</c>: an export of it names the preset, not the numbers.</summary>
    [TestCase("\"full\"", 1024, 16, 12)]
    [TestCase("\"half\"", 512, 8, 12)]
    [TestCase("\"quarter\"", 256, 4, 12)]
    [TestCase("\"double\"", 1024, 16, 24)]
    [TestCase("\"extended\"", 1024, 16, 16)]
    [TestCase("0.5", 512, 8, 12)]
    [TestCase("1", 1024, 16, 12)]
    [TestCase("{\"layers\": 3}", 1024, 16, 3)]
    public void SizePresetsAsUpstream(string size, int dim, int heads, int layers)
    {
        var c = EckerConfig.Parse($"{{\"size\": {size}, \"capabilities\": [\"ar\", \"nar\"]}}", "test");
        Assert.That((c.Dim, c.Heads, c.Layers, c.Ffn, c.Levels, c.AudioTokens, c.PhonemeTokens, c.TextTokens),
            Is.EqualTo((dim, heads, layers, 4, 8, 1024, 256, 8575)));
        Assert.That(EckerConfig.IsEckerMetadata(new Dictionary<string, string> { ["config"] = $"{{\"size\": {size}}}" }), Is.True);
    }

    [TestCase("{\"size\": [1]}", "no 'size'")]
    [TestCase("{\"size\": 0.01}", "not a valid transformer size")]
    [TestCase("{\"size\": {\"dim\": 100, \"heads\": 3}}", "not a valid transformer size")]
    [TestCase("{\"size\": {\"dim\": \"64\"}}", "expected an integer")]
    public void BadSizesAreRefused(string json, string message)
    {
        var e = Assert.Throws<InvalidInputException>(() => EckerConfig.Parse(json, "test"));
        Assert.That(e!.Message, Does.Contain(message));
    }

    // ---- experimental.kv_heads ----

    /// <summary>A copy of arnar_d64 with experimental.kv_heads set; <paramref name="gqa"/> also cuts k/v to that many heads.</summary>
    private static string WithKvHeads(TempDir tmp, int kvHeads, bool gqa)
    {
        string path = tmp.File($"kv{kvHeads}{(gqa ? "gqa" : "")}.sft");
        using var f = SafetensorsFile.Open(Fixture("arnar_d64", "fp32.sft"));
        var config = System.Text.Json.Nodes.JsonNode.Parse(f.Metadata["config"])!;
        config["experimental"]!["kv_heads"] = kvHeads;
        var metadata = new Dictionary<string, string>(f.Metadata) { ["config"] = config.ToJsonString() };
        var items = f.Tensors.Select(t =>
        {
            bool kv = t.Name.EndsWith("self_attn.k_proj.weight", StringComparison.Ordinal) || t.Name.EndsWith("self_attn.v_proj.weight", StringComparison.Ordinal);
            // the first kvHeads heads' rows: a [kvHeads * 16, 64] view of the same storage
            var u = gqa && kv ? new TensorData(t.Name, t.DType, [kvHeads * 16, t.Shape[1]], t.Strides, t.Offset, t.Storage) : t;
            return new SafetensorsWriter.Item(t.Name, u, t.DType);
        }).ToList();
        SafetensorsWriter.Write(path, items, metadata);
        return path;
    }

    /// <summary>
    /// Upstream 73833ee reads experimental.kv_heads nowhere when building the model (LlamaConfig gets num_key_value_heads =
    /// n_heads), so a file saying kv_heads 2 is an ordinary multi-head model: it loads and gives the same codes.
    /// </summary>
    [Test]
    public void KvHeadsInTheConfigIsIgnoredAsUpstreamDoes()
    {
        using var tmp = TestPaths.CreateTempDir();
        string path = WithKvHeads(tmp, 2, gqa: false);
        using (var ckpt = ModelCheckpoint.Open(path))
            Assert.That((ckpt.Config.Ecker!.KvHeads, ckpt.Config.Ecker.Heads), Is.EqualTo((2, 4)));
        Assert.That(Generate(path, "arnar_d64", tmp.File("codes.npy"), out _), Is.EqualTo(Expected("arnar_d64")));
    }

    [Test]
    public void GroupedQueryShapedWeightsAreRefusedClearly()
    {
        using var tmp = TestPaths.CreateTempDir();
        var e = Assert.Throws<InvalidInputException>(() => ModelCheckpoint.Open(WithKvHeads(tmp, 2, gqa: true)).Dispose());
        Assert.That(e!.Message, Does.Contain("2 key/value heads for 4 query heads").And.Contain("grouped-query attention"));
    }

    // ---- valle convert ----

    [TestCase("arnar_d64", "f32")]
    [TestCase("arnar_d64", "bf16")]
    [TestCase("narlen_d96", "f32")]
    [TestCase("narlen_d96", "bf16")]
    public void ConvertThroughTheCli(string fixture, string dtype)
    {
        using var tmp = TestPaths.CreateTempDir();
        string source = Fixture(fixture, "fp32.sft"), output = tmp.File("out");
        var r = CliRunner.Run(["convert", source, output, "--dtype", dtype]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Contain("model.safetensors").And.Contain(dtype));
        Assert.That(Directory.GetFileSystemEntries(output).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "config.json", "model.safetensors" }));
        Assert.That(Directory.GetFileSystemEntries(tmp.Path), Has.Length.EqualTo(1), "no staging folder left behind");

        using (var a = ModelCheckpoint.Open(source))
        using (var b = ModelCheckpoint.Open(output))
        {
            Assert.That(b.Config.Family, Is.EqualTo(ModelFamily.Ecker));
            AssertSameConfig(a.Config.Ecker!, b.Config.Ecker!);
            Assert.That(b.SourceDType.ShortName(), Is.EqualTo(dtype));
            Assert.That(b.RecordedOrigin, Is.EqualTo(("fp32.sft", "safetensors", DType.Float32)));
            if (dtype == "f32") AssertBitIdentical(a, b);
            // upstream's metadata goes through unchanged, so upstream's loader reads model.safetensors as its own .sft.
            using var sf = SafetensorsFile.Open(Path.Combine(output, "model.safetensors"));
            Assert.That(sf.Metadata, Is.EqualTo(a.EckerMetadata));
        }

        var codes = Generate(output, fixture, tmp.File("codes.npy"), out var shape);
        if (dtype == "f32") Assert.That(codes, Is.EqualTo(Expected(fixture)));
        else Assert.That(shape[1], Is.EqualTo(8));

        // inspect reports the same hyper-parameters as for the original file.
        var before = JsonDocument.Parse(CliRunner.Run(["inspect", source, "--json"]).Out).RootElement;
        var ins = CliRunner.Run(["inspect", output, "--json"]);
        Assert.That(ins.ExitCode, Is.EqualTo(0), ins.ToString());
        var after = JsonDocument.Parse(ins.Out).RootElement;
        foreach (var p in before.EnumerateObject())
        {
            if (p.Name is "source_dtype" or "source_format") continue;
            Assert.That(JsonElement.DeepEquals(p.Value, after.GetProperty(p.Name)), Is.True, p.Name);
        }
        Assert.That(after.GetProperty("source_dtype").GetString(), Is.EqualTo(dtype));
        Assert.That(after.GetProperty("converted_from").GetProperty("file").GetString(), Is.EqualTo("fp32.sft"));
    }

    [TestCaseSource(nameof(Fixtures))]
    public void ConvertAPtGivesTheSftTensorsAndReconvertingIsByteIdentical(string fixture)
    {
        using var tmp = TestPaths.CreateTempDir();
        var r = CliRunner.Run(["convert", Pt(fixture, "fp32.pt"), tmp.File("a")]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        using (var sft = ModelCheckpoint.Open(Fixture(fixture, "fp32.sft")))
        using (var a = ModelCheckpoint.Open(tmp.File("a")))
        {
            AssertBitIdentical(sft, a);
            Assert.That(a.RecordedOrigin, Is.EqualTo(("fp32.pt", "torch", DType.Float32)));
            // the model.safetensors alone is an upstream .sft: it opens without the config.json beside it
            File.Copy(Path.Combine(tmp.File("a"), "model.safetensors"), tmp.File("alone.sft"));
            using var alone = ModelCheckpoint.Open(tmp.File("alone.sft"));
            AssertBitIdentical(sft, alone);
        }
        r = CliRunner.Run(["convert", tmp.File("a"), tmp.File("b")]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        foreach (string f in new[] { "model.safetensors", "config.json" })
            Assert.That(File.ReadAllBytes(Path.Combine(tmp.File("b"), f)), Is.EqualTo(File.ReadAllBytes(Path.Combine(tmp.File("a"), f))), f);
    }

    [Test]
    public void AFolderWhoseConfigJsonDisagreesWithTheMetadataIsRefused()
    {
        using var tmp = TestPaths.CreateTempDir();
        string output = tmp.File("out");
        using (var ckpt = ModelCheckpoint.Open(Fixture("arnar_d64", "fp32.sft")))
            CheckpointConverter.Convert(ckpt, output);
        string config = Path.Combine(output, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"heads\": 4", "\"heads\": 8", StringComparison.Ordinal));
        var e = Assert.Throws<InvalidInputException>(() => ModelCheckpoint.Open(output).Dispose());
        Assert.That(e!.Message, Does.Contain("'heads' is 8").And.Contain("says 4"));

        // Without config.json the folder is upstream's .sft under another name: it still opens.
        File.Delete(config);
        using var bare = ModelCheckpoint.Open(output);
        Assert.That(bare.Config.Ecker!.Heads, Is.EqualTo(4));
    }

    [Test]
    public void ACancelledConvertLeavesNothingBehind()
    {
        using var tmp = TestPaths.CreateTempDir();
        using var ckpt = ModelCheckpoint.Open(Fixture("arnar_d64", "fp32.sft"));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => CheckpointConverter.Convert(ckpt, tmp.File("sub/out"), DType.BFloat16, cancelled.Token));
        Assert.That(Directory.GetFileSystemEntries(tmp.Path), Is.Empty);
    }
}
