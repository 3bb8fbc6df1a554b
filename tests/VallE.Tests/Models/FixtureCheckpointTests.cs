using System.Text.Json;
using VallE.Tests.Support;
using VallE.Weights;

namespace VallE.Tests.Models;

/// <summary>The upstream-generated fixture checkpoints: inspect matches meta.json, convert round-trips losslessly.</summary>
public class FixtureCheckpointTests
{
    private static (string Checkpoint, JsonElement Constructor, string Implementation) Fixture(string name)
    {
        string ckpt = TestPaths.RequireShared("valle", name, "checkpoint.pt");
        using var meta = JsonDocument.Parse(File.ReadAllText(TestPaths.RequireShared("valle", name, "meta.json")));
        return (ckpt, meta.RootElement.GetProperty("constructor").Clone(), meta.RootElement.GetProperty("implementation").GetString()!);
    }

    [TestCase("valle-tiny")]
    [TestCase("vallex-tiny")]
    public void InspectMatchesMetaJson(string name)
    {
        var (ckpt, ctor, implementation) = Fixture(name);
        bool vallex = implementation == "vallex";
        // The VALL-E X file stores no hyper-parameters: heads come from the user, as with the real release.
        string[] args = vallex ? ["inspect", ckpt, "--json", "--nhead", ctor.GetProperty("nhead").GetInt32().ToString()] : ["inspect", ckpt, "--json"];
        var r = CliRunner.Run(args);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        var json = doc.RootElement;
        Assert.That(json.GetProperty("family").GetString(), Is.EqualTo(vallex ? "vallex" : "valle"));
        Assert.That(json.GetProperty("d_model").GetInt32(), Is.EqualTo(ctor.GetProperty("decoder_dim").GetInt32()));
        Assert.That(json.GetProperty("nhead").GetInt32(), Is.EqualTo(ctor.GetProperty("nhead").GetInt32()));
        Assert.That(json.GetProperty("num_layers").GetInt32(), Is.EqualTo(ctor.GetProperty("num_decoder_layers").GetInt32()));
        double scale = ctor.GetProperty("scale_factor").GetDouble();
        Assert.That(json.GetProperty("scale_factor").GetDouble(), Is.EqualTo(scale));
        Assert.That(json.GetProperty("nar_d_model").GetInt32(), Is.EqualTo((int)(ctor.GetProperty("decoder_dim").GetInt32() * scale)));
        Assert.That(json.GetProperty("nar_nhead").GetInt32(), Is.EqualTo((int)(ctor.GetProperty("nhead").GetInt32() * scale)));
        foreach (string flag in new[] { "norm_first", "add_prenet", "share_embedding", "prepend_bos" })
            Assert.That(json.GetProperty(flag).GetBoolean(), Is.EqualTo(ctor.GetProperty(flag).GetBoolean()), flag);
        foreach (string n in new[] { "prefix_mode", "num_quantizers" })
            Assert.That(json.GetProperty(n).GetInt32(), Is.EqualTo(ctor.GetProperty(n).GetInt32()), n);
        Assert.That(json.GetProperty("num_languages").GetInt32(), Is.EqualTo(vallex ? 3 : 0));
        Assert.That(json.GetProperty("source_dtype").GetString(), Is.EqualTo("f32"));
        Assert.That(json.GetProperty("sources").GetProperty("nhead").GetString(), Is.EqualTo(vallex ? "override" : "checkpoint"));
        Assert.That(json.GetProperty("sources").GetProperty("d_model").GetString(), Is.EqualTo(vallex ? "inferred" : "checkpoint"));
    }

    [TestCase("valle-tiny")]
    [TestCase("vallex-tiny")]
    public void ConvertRoundTripsLosslesslyAndKeepsTies(string name)
    {
        var (ckpt, ctor, _) = Fixture(name);
        var overrides = new ConfigOverrides { NHead = ctor.GetProperty("nhead").GetInt32() };
        using var tmp = TestPaths.CreateTempDir();
        using var pt = ModelCheckpoint.Open(ckpt, overrides);
        CheckpointConverter.Convert(pt, tmp.File("a"));
        using var a = ModelCheckpoint.Open(tmp.File("a"));
        Assert.That(a.Config, Is.EqualTo(pt.Config));
        Assert.That(a.Tensors.Keys, Is.EqualTo(pt.Tensors.Keys));
        foreach (var (tensorName, t) in pt.Tensors)
            Assert.That(a.Get(tensorName).ContiguousBytes.SequenceEqual(t.ContiguousBytes), tensorName);
        Assert.That(pt.TiedTensors, Has.Count.EqualTo(6), "the fixture ties 6 NAR prediction layers");
        Assert.That(a.TiedTensors, Is.EqualTo(pt.TiedTensors));
        foreach (var (alias, target) in a.TiedTensors)
            Assert.That(a.Get(alias).Storage, Is.SameAs(a.Get(target).Storage), alias);
        Assert.That(a.ParameterCount, Is.EqualTo(pt.ParameterCount));

        // folder -> folder: identical bytes (provenance and sources carried over).
        CheckpointConverter.Convert(a, tmp.File("b"));
        foreach (string file in new[] { "model.safetensors", "config.json" })
            Assert.That(File.ReadAllBytes(Path.Combine(tmp.File("b"), file)), Is.EqualTo(File.ReadAllBytes(Path.Combine(tmp.File("a"), file))), file);
        using var b = ModelCheckpoint.Open(tmp.File("b"));
        Assert.That(b.Config, Is.EqualTo(pt.Config));
    }

    [Test]
    public void ParameterCountMatchesDistinctStorages()
    {
        using var pt = ModelCheckpoint.Open(TestPaths.RequireShared("valle", "valle-tiny", "checkpoint.pt"));
        // sum(t.numel() for distinct storages of the state dict), computed with torch 1.13.
        Assert.That(pt.ParameterCount, Is.EqualTo(1_028_868));
    }
}
