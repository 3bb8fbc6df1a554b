using VallE.Tests.Support;
using VallE.Weights;

namespace VallE.Tests.Models;

/// <summary>Converted folders: lossless round trips, byte-identical re-conversion, ties restored as shared memory, --dtype.</summary>
public class ConversionTests
{
    [Test]
    public void FolderRoundTripKeepsValuesConfigAndTies()
    {
        using var tmp = TestPaths.CreateTempDir();
        var config = InMemoryModels.Tiny() with { AddPrenet = true };
        var original = InMemoryModels.StateDict(config);
        InMemoryModels.WriteFolder(config, tmp.File("a"));

        using var loaded = ModelCheckpoint.Open(tmp.File("a"));
        Assert.That(loaded.Config, Is.EqualTo(config));
        Assert.That(loaded.SourceFormat, Is.EqualTo("safetensors"));
        Assert.That(loaded.Tensors.Keys, Is.EqualTo(ModelLayout.Expected(config).Select(e => e.Name)));
        foreach (var (name, t) in original)
        {
            if (t.DType == DType.Int64) Assert.That(loaded.Get(name).ToInt64(), Is.EqualTo(t.ToInt64()), name);
            else Assert.That(loaded.Get(name).ToFloat32(), Is.EqualTo(t.ToFloat32()), name);
        }
        foreach (var (alias, target) in ModelLayout.Ties(config))
        {
            Assert.That(loaded.Get(alias).IsSameViewAs(loaded.Get(target)), $"{alias} shares {target}");
            Assert.That(loaded.Get(alias).Storage, Is.SameAs(loaded.Get(target).Storage));
        }
    }

    [Test]
    public void ReconvertingAFolderGivesIdenticalBytes()
    {
        using var tmp = TestPaths.CreateTempDir();
        InMemoryModels.WriteFolder(InMemoryModels.Tiny(ModelFamily.VallEX), tmp.File("a"));
        using (var a = ModelCheckpoint.Open(tmp.File("a"))) CheckpointConverter.Convert(a, tmp.File("b"));
        foreach (string file in new[] { "model.safetensors", "config.json" })
            Assert.That(File.ReadAllBytes(Path.Combine(tmp.File("b"), file)), Is.EqualTo(File.ReadAllBytes(Path.Combine(tmp.File("a"), file))), file);
    }

    [Test]
    public void TiedTensorsAreStoredOnceAndRecordedInConfigJson()
    {
        using var tmp = TestPaths.CreateTempDir();
        InMemoryModels.WriteFolder(InMemoryModels.Tiny(), tmp.File("a"));
        using var file = VallE.Weights.Safetensors.SafetensorsFile.Open(Path.Combine(tmp.File("a"), "model.safetensors"));
        Assert.That(file.ByName.ContainsKey("nar_predict_layers.0.weight"), Is.False);
        Assert.That(file.ByName.ContainsKey("nar_predict_layers.6.weight"), Is.True, "the last two prediction layers are not tied");
        string json = File.ReadAllText(Path.Combine(tmp.File("a"), "config.json"));
        Assert.That(json, Does.Contain("\"nar_predict_layers.0.weight\": \"nar_audio_embeddings.2.word_embeddings.weight\""));
    }

    [Test]
    public void DtypeConvertsFloatsOnly()
    {
        using var tmp = TestPaths.CreateTempDir();
        var config = InMemoryModels.Tiny() with { AddPrenet = true };
        InMemoryModels.WriteFolder(config, tmp.File("a"));
        using (var a = ModelCheckpoint.Open(tmp.File("a"))) CheckpointConverter.Convert(a, tmp.File("h"), DType.Float16);
        using var a2 = ModelCheckpoint.Open(tmp.File("a"));
        using var h = ModelCheckpoint.Open(tmp.File("h"));
        Assert.That(h.SourceDType, Is.EqualTo(DType.Float16));
        Assert.That(h.Get("ar_text_prenet.2.num_batches_tracked").DType, Is.EqualTo(DType.Int64));
        Assert.That(h.Get("ar_text_prenet.2.running_var").DType, Is.EqualTo(DType.Float16));
        Assert.That(h.Get("ar_decoder.layers.0.linear1.weight").ToFloat32(),
            Is.EqualTo(a2.Get("ar_decoder.layers.0.linear1.weight").ToFloat32()).Within(1e-3));
        Assert.That(h.Get("nar_predict_layers.1.weight").IsSameViewAs(h.Get("nar_audio_embeddings.3.word_embeddings.weight")));
        Assert.That(h.Config, Is.EqualTo(a2.Config));
    }

    [Test]
    public void BareSafetensorsNeedsConfigBesideIt()
    {
        using var tmp = TestPaths.CreateTempDir();
        InMemoryModels.WriteFolder(InMemoryModels.Tiny(), tmp.File("a"));
        using (var ok = ModelCheckpoint.Open(Path.Combine(tmp.File("a"), "model.safetensors")))
            Assert.That(ok.Config.DModel, Is.EqualTo(16));
        File.Delete(Path.Combine(tmp.File("a"), "config.json"));
        var e = Assert.Throws<InvalidInputException>(() => ModelCheckpoint.Open(Path.Combine(tmp.File("a"), "model.safetensors")));
        Assert.That(e!.Message, Does.Contain("config.json"));
    }

    [Test]
    public void TiedAliasToAMissingTensorIsReported()
    {
        using var tmp = TestPaths.CreateTempDir();
        InMemoryModels.WriteFolder(InMemoryModels.Tiny(), tmp.File("a"));
        string cfg = Path.Combine(tmp.File("a"), "config.json");
        File.WriteAllText(cfg, File.ReadAllText(cfg).Replace("\"nar_audio_embeddings.2.word_embeddings.weight\"", "\"nope\""));
        var e = Assert.Throws<InvalidInputException>(() => ModelCheckpoint.Open(tmp.File("a")));
        Assert.That(e!.Message, Does.Contain("'nar_predict_layers.0.weight' names 'nope'"));
    }

    [Test]
    public void ConfigJsonOfAnotherToolIsRejected()
    {
        using var tmp = TestPaths.CreateTempDir();
        InMemoryModels.WriteFolder(InMemoryModels.Tiny(), tmp.File("a"));
        File.WriteAllText(Path.Combine(tmp.File("a"), "config.json"), """{"architectures": ["GPT2"]}""");
        var e = Assert.Throws<InvalidInputException>(() => ModelCheckpoint.Open(tmp.File("a")));
        Assert.That(e!.Message, Does.Contain("not a VallE.NET converted checkpoint"));
    }

    [Test]
    public void AbsurdStoredLayerCountIsRefusedBeforeBuildingTheLayout()
    {
        using var tmp = TestPaths.CreateTempDir();
        InMemoryModels.WriteFolder(InMemoryModels.Tiny(), tmp.File("a"));
        string cfg = Path.Combine(tmp.File("a"), "config.json");
        File.WriteAllText(cfg, File.ReadAllText(cfg).Replace("\"num_layers\": 2", "\"num_layers\": 2000000000"));
        var e = Assert.Throws<InvalidInputException>(() => ModelCheckpoint.Open(tmp.File("a")));
        Assert.That(e!.Message, Does.Contain("layer counts (2000000000"));
    }

    [Test]
    public void ConfigThatContradictsTheTensorsIsALayoutMismatch()
    {
        using var tmp = TestPaths.CreateTempDir();
        InMemoryModels.WriteFolder(InMemoryModels.Tiny(), tmp.File("a"));
        string cfg = Path.Combine(tmp.File("a"), "config.json");
        File.WriteAllText(cfg, File.ReadAllText(cfg).Replace("\"num_layers\": 2", "\"num_layers\": 3"));
        var e = Assert.Throws<InvalidInputException>(() => ModelCheckpoint.Open(tmp.File("a")));
        Assert.That(e!.Message, Does.Contain("missing ('ar_decoder.layers.2.self_attn.in_proj_weight'"));
    }
}
