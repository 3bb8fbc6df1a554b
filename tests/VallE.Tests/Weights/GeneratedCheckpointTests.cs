using System.Text.Json;
using VallE.Tests.Support;
using VallE.Weights;

namespace VallE.Tests.Weights;

/// <summary>
/// <c>valle inspect</c> on real PyTorch checkpoints of every layout (tools/make_checkpoint.py), .pt quirks
/// (bare state dicts, <c>module.</c> prefixes) and foreign or damaged files.
/// </summary>
public class GeneratedCheckpointTests
{
    private static JsonElement Inspect(string file, params string[] extra)
    {
        var r = CliRunner.Run(["inspect", GeneratedCheckpoints.Path(file), "--json", .. extra]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        return JsonDocument.Parse(r.Out).RootElement.Clone();
    }

    private static void Expect(JsonElement json, string key, object expected)
    {
        JsonElement v = json.GetProperty(key);
        object actual = expected switch
        {
            bool => v.GetBoolean(),
            int => v.GetInt32(),
            double => v.GetDouble(),
            _ => v.GetString()!,
        };
        Assert.That(actual, Is.EqualTo(expected), key);
    }

    // file, then key/value pairs the JSON must hold (the make_checkpoint.py flags).
    [TestCase("valle.pt", "family", "valle", "d_model", 64, "nhead", 4, "num_layers", 2, "norm_first", true, "prefix_mode", 1, "prepend_bos", false, "text_vocab", 512)]
    [TestCase("vallf.pt", "family", "vallf", "nhead", 4, "num_layers", 2, "nar_num_layers", 2)]
    [TestCase("prenet.pt", "add_prenet", true, "family", "valle")]
    [TestCase("postnorm.pt", "norm_first", false)]
    [TestCase("scale.pt", "scale_factor", 0.5, "nar_d_model", 32, "nar_nhead", 2, "nar_num_layers", 1, "d_model", 64)]
    [TestCase("bos.pt", "prepend_bos", true, "family", "valle")]
    [TestCase("noshare.pt", "share_embedding", false)]
    [TestCase("vallf_prenet_f16.pt", "family", "vallf", "add_prenet", true, "source_dtype", "f16", "prefix_mode", 2)]
    [TestCase("onequantizer.pt", "num_quantizers", 1)]
    public void IcefallCheckpointsInspectAsGenerated(string file, params object[] expected)
    {
        var json = Inspect(file);
        for (int i = 0; i < expected.Length; i += 2) Expect(json, (string)expected[i], expected[i + 1]);
        Assert.That(json.GetProperty("sources").GetProperty("nhead").GetString(), Is.EqualTo("checkpoint"));
    }

    [Test]
    public void VallEXIsInferredFromTensors()
    {
        var json = Inspect("vallex.pt");
        Expect(json, "family", "vallex");
        Expect(json, "nhead", 16);
        Expect(json, "prefix_mode", 1);
        Expect(json, "prepend_bos", true);
        Expect(json, "num_languages", 3);
        Expect(json, "text_vocab", 2048);
        Expect(json, "norm_first", true);
        var sources = json.GetProperty("sources");
        Assert.That(sources.GetProperty("nhead").GetString(), Is.EqualTo("default"));
        Assert.That(sources.GetProperty("d_model").GetString(), Is.EqualTo("inferred"));

        var post = Inspect("vallex_postnorm.pt", "--nhead", "8", "--prefix-mode", "0");
        Expect(post, "norm_first", false);
        Expect(post, "d_model", 128);
        Expect(post, "nhead", 8);
        Expect(post, "prefix_mode", 0);
        Assert.That(post.GetProperty("sources").GetProperty("nhead").GetString(), Is.EqualTo("override"));
    }

    [Test]
    public void BareStateDictWithModulePrefixesOpens()
    {
        var json = Inspect("bare_module.pt", "--nhead", "4");
        Expect(json, "family", "valle");
        Expect(json, "d_model", 64);
        Expect(json, "prefix_mode", 0); // lifeiteng default when nothing says otherwise
        using var bare = ModelCheckpoint.Open(GeneratedCheckpoints.Path("bare_module.pt"), new ConfigOverrides { NHead = 4 });
        using var icefall = ModelCheckpoint.Open(GeneratedCheckpoints.Path("valle.pt"));
        Assert.That(bare.Tensors.Keys, Is.EqualTo(icefall.Tensors.Keys));
        Assert.That(bare.Get("nar_predict_layers.0.weight").IsSameViewAs(bare.Get("nar_audio_embeddings.2.word_embeddings.weight")));
    }

    [TestCase("foreign.pt", "not a VALL-E checkpoint: none of its 2 tensors")]
    [TestCase("list.pt", "not a VALL-E checkpoint: the pickled root is a list")]
    [TestCase("transformer.pt", "not a VALL-E checkpoint: model_name 'Transformer'")]
    [TestCase("damaged.pt", "1 missing ('ar_predict_layer.weight' [1025, 64]); 1 mis-shaped ('ar_decoder.layers.1.linear1.weight' is [7, 64], expected [256, 64])")]
    [TestCase("badkey.pt", "checkpoint key 'nhead' is 'four', expected an integer")]
    public void ForeignOrDamagedFilesExitThreeWithOneLine(string file, string message)
    {
        var r = CliRunner.Run("inspect", GeneratedCheckpoints.Path(file));
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        Assert.That(r.Err, Does.Contain(message));
        Assert.That(r.Err.TrimEnd().Split('\n'), Has.Length.EqualTo(1), r.Err);
    }

    [Test]
    public void ConvertedGeneratedLayoutsKeepConfigAndValues()
    {
        using var tmp = TestPaths.CreateTempDir();
        foreach (string file in new[] { "prenet.pt", "vallf_prenet_f16.pt", "scale.pt", "noshare.pt", "vallex.pt" })
        {
            string outDir = tmp.File(file + ".d");
            var r = CliRunner.Run("convert", GeneratedCheckpoints.Path(file), outDir);
            Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
            using var pt = ModelCheckpoint.Open(GeneratedCheckpoints.Path(file));
            using var folder = ModelCheckpoint.Open(outDir);
            Assert.That(folder.Config, Is.EqualTo(pt.Config), file);
            Assert.That(folder.SourceDType, Is.EqualTo(pt.SourceDType), file);
            Assert.That(folder.ParameterCount, Is.EqualTo(pt.ParameterCount), file);
            foreach (var (name, t) in pt.Tensors)
            {
                var back = folder.Get(name);
                Assert.That(back.DType, Is.EqualTo(t.DType), name);
                Assert.That(back.ContiguousBytes.SequenceEqual(t.ContiguousBytes), $"{file}: {name}");
            }
            Assert.That(folder.TiedTensors, Is.EqualTo(pt.TiedTensors), file);
        }
    }
}
