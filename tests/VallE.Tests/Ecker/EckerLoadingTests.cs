using System.Text.Json;
using VallE.Tests.Support;
using VallE.Weights;
using VallE.Weights.Safetensors;

namespace VallE.Tests.Ecker;

/// <summary>
/// e-c-k-e-r/vall-e exports (<c>.sft</c>: safetensors with the model config in its metadata) open as family Ecker;
/// <c>valle inspect</c> reports their hyper-parameters; 16-bit copies load to the same values (rounded).
/// </summary>
public class EckerLoadingTests
{
    internal static string Sft(string fixture) => TestPaths.RequireShared("ecker", fixture, "fp32.sft");

    [Test]
    public void ArNarFixtureOpensAsEcker()
    {
        using var ckpt = ModelCheckpoint.Open(Sft("arnar_d64"));
        var c = ckpt.Config;
        Assert.That(c.Family, Is.EqualTo(ModelFamily.Ecker));
        var e = c.Ecker!;
        Assert.Multiple(() =>
        {
            Assert.That((e.Dim, e.Heads, e.Layers, e.Ffn, e.Levels), Is.EqualTo((64, 4, 2, 4, 8)));
            Assert.That((e.AudioTokens, e.PhonemeTokens, e.TextTokens, e.Langs, e.Tasks, e.Tones), Is.EqualTo((1024, 256, 64, 4, 9, 1)));
            Assert.That(e.DistinctCapabilities, Is.EqualTo(new[] { "ar", "nar", "lang" }));
            Assert.That(e.NoncausalMasks, Is.False);
            Assert.That(e.UnifiedPositionIds, Is.False);
            Assert.That(e.AudioEmbeddingSums, Is.True);
            Assert.That(e.SplitClassifiers, Is.True);
            Assert.That(e.ClassifierNames, Is.EqualTo(new[] { "AR:0:0", "NAR:0:1", "NAR:1:2", "NAR:2:3", "NAR:3:4", "NAR:4:5", "NAR:5:6", "NAR:6:7", "NAR:0:0", "stt" }));
            Assert.That(ckpt.SourceDType, Is.EqualTo(DType.Float32));
            Assert.That(ckpt.Tensors.Values.Sum(t => t.ElementCount), Is.EqualTo(ckpt.ParameterCount));
        });
    }

    [Test]
    public void NarLenFixtureOpensWithLenHeadAndNonCausalMasks()
    {
        using var ckpt = ModelCheckpoint.Open(Sft("narlen_d96"));
        var e = ckpt.Config.Ecker!;
        Assert.Multiple(() =>
        {
            Assert.That((e.Dim, e.Heads, e.Layers), Is.EqualTo((96, 6, 3)));
            Assert.That(e.Has("len"), Is.True);
            Assert.That(e.NoncausalMasks, Is.True);
            Assert.That(e.ClassifierNames[^1], Is.EqualTo("len"));
            Assert.That(e.Classifier("len"), Is.EqualTo(10));
            Assert.That(e.Classifier("NAR:0:0"), Is.EqualTo(8));
        });
    }

    [TestCase("arnar_d64", 64, 4, 2, false, "ar,nar,lang")]
    [TestCase("narlen_d96", 96, 6, 3, true, "ar,nar,len,lang")]
    public void InspectReportsEckerHyperParameters(string fixture, int dim, int heads, int layers, bool noncausal, string caps)
    {
        var r = CliRunner.Run(["inspect", Sft(fixture), "--json"]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        var json = JsonDocument.Parse(r.Out).RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(json.GetProperty("family").GetString(), Is.EqualTo("ecker"));
            Assert.That(json.GetProperty("dim").GetInt32(), Is.EqualTo(dim));
            Assert.That(json.GetProperty("heads").GetInt32(), Is.EqualTo(heads));
            Assert.That(json.GetProperty("layers").GetInt32(), Is.EqualTo(layers));
            Assert.That(json.GetProperty("levels").GetInt32(), Is.EqualTo(8));
            Assert.That(json.GetProperty("audio_tokens").GetInt32(), Is.EqualTo(1024));
            Assert.That(json.GetProperty("phoneme_tokens").GetInt32(), Is.EqualTo(256));
            Assert.That(json.GetProperty("langs").GetInt32(), Is.EqualTo(4));
            Assert.That(json.GetProperty("tasks").GetInt32(), Is.EqualTo(9));
            Assert.That(string.Join(",", json.GetProperty("capabilities").EnumerateArray().Select(x => x.GetString())), Is.EqualTo(caps));
            Assert.That(json.GetProperty("noncausal_masks").GetBoolean(), Is.EqualTo(noncausal));
            Assert.That(json.GetProperty("unified_position_ids").GetBoolean(), Is.False);
            Assert.That(json.GetProperty("audio_embedding_sums").GetBoolean(), Is.True);
            Assert.That(json.GetProperty("split_classifiers").GetBoolean(), Is.True);
            Assert.That(json.GetProperty("source_dtype").GetString(), Is.EqualTo("f32"));
        });
        var text = CliRunner.Run(["inspect", Sft(fixture)]);
        Assert.That(text.ExitCode, Is.EqualTo(0), text.ToString());
        Assert.That(text.Out, Does.Contain("ecker:").And.Contain("noncausal_masks"));
    }

    [TestCase(DType.Float16)]
    [TestCase(DType.BFloat16)]
    public void SixteenBitCopiesLoad(DType dtype)
    {
        string source = Sft("arnar_d64");
        using var temp = TestPaths.CreateTempDir();
        string path = temp.File($"model-{dtype.ShortName()}.sft");
        using (var f32 = SafetensorsFile.Open(source))
            SafetensorsWriter.Write(path, f32.Tensors.Select(t => new SafetensorsWriter.Item(t.Name, t, dtype)).ToList(), f32.Metadata);

        using var a = ModelCheckpoint.Open(source);
        using var b = ModelCheckpoint.Open(path);
        Assert.That(b.Config.Family, Is.EqualTo(ModelFamily.Ecker));
        Assert.That(b.SourceDType, Is.EqualTo(dtype));
        double tolerance = dtype == DType.Float16 ? 1e-3 : 8e-3;
        foreach (var (name, t) in a.Tensors)
        {
            var x = t.ToFloat32();
            var y = b.Get(name).ToFloat32();
            for (int i = 0; i < x.Length; i++)
                if (Math.Abs(x[i] - y[i]) > tolerance * Math.Max(1, Math.Abs(x[i])))
                    Assert.Fail($"{name}[{i}]: {x[i]} vs {y[i]} after {dtype.ShortName()}");
        }
    }

    [Test]
    public void SftWithoutConfigIsRefusedClearly()
    {
        string source = Sft("arnar_d64");
        using var temp = TestPaths.CreateTempDir();
        string path = temp.File("bare.sft");
        using (var f32 = SafetensorsFile.Open(source))
            SafetensorsWriter.Write(path, f32.Tensors.Select(t => new SafetensorsWriter.Item(t.Name, t, t.DType)).ToList());
        var e = Assert.Throws<InvalidInputException>(() => ModelCheckpoint.Open(path).Dispose());
        Assert.That(e!.Message, Does.Contain("'config'"));
    }

    [Test]
    public void TheVallEEngineRefusesAnEckerCheckpoint()
    {
        using var ckpt = ModelCheckpoint.Open(Sft("arnar_d64"));
        var e = Assert.Throws<InvalidInputException>(() => VallE.Runtime.Models.ValleModel.Load(ckpt).Dispose());
        Assert.That(e!.Message, Does.Contain("ecker"));
    }
}
