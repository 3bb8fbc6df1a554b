using VallE.Tests.Support;
using VallE.Weights;
using VallE.Weights.Pickle;
using VallE.Weights.Torch;

namespace VallE.Tests.Torch;

/// <summary>
/// Opens the shared fixture checkpoints (written by torch 1.13) and compares against values torch itself
/// reported for them (printed once at development time with <c>torch.load</c>; sums in float64).
/// </summary>
public class TorchFixtureTests
{
    private static PyDict StateDict(TorchCheckpoint ck) =>
        (PyDict)((PyDict)ck.Root!).GetOrNull("model")!;

    private static TensorData Tensor(PyDict sd, string name) => (TensorData)sd.GetOrNull(name)!;

    private static void AssertValues(TensorData t, long[] shape, double sum, float first, float last)
    {
        Assert.That(t.Shape, Is.EqualTo(shape), t.Name);
        Assert.That(t.DType, Is.EqualTo(DType.Float32));
        var v = t.ToFloat32();
        Assert.That(v.Sum(x => (double)x), Is.EqualTo(sum).Within(1e-9 * Math.Max(1, Math.Abs(sum))), t.Name);
        Assert.That(v[0], Is.EqualTo(first), t.Name);
        Assert.That(v[^1], Is.EqualTo(last), t.Name);
    }

    [Test]
    public void OpensValleTinyTrainingCheckpoint()
    {
        using var ck = TorchCheckpoint.Open(TestPaths.RequireShared("valle", "valle-tiny", "checkpoint.pt"));
        var root = (PyDict)ck.Root!;
        Assert.That(root.Entries.Select(e => e.Key), Is.EqualTo(new object[]
        {
            "model", "optimizer", "scheduler", "grad_scaler", "sampler", "model_name", "decoder_dim", "nhead",
            "num_decoder_layers", "scale_factor", "norm_first", "add_prenet", "prefix_mode", "share_embedding",
            "prepend_bos", "num_quantizers", "exp_dir", "text_tokens", "best_train_loss", "best_valid_loss",
            "batch_idx_train", "cur_epoch", "dtype", "world_size",
        }));
        Assert.That(root.GetOrNull("model_name"), Is.EqualTo("VALL-E"));
        Assert.That(root.GetOrNull("decoder_dim"), Is.EqualTo(64L));
        Assert.That(root.GetOrNull("scale_factor"), Is.EqualTo(1.0));
        Assert.That(root.GetOrNull("norm_first"), Is.EqualTo(true));
        Assert.That(root.GetOrNull("add_prenet"), Is.EqualTo(false));
        Assert.That(root.GetOrNull("best_valid_loss"), Is.EqualTo(double.PositiveInfinity));
        Assert.That(root.GetOrNull("batch_idx_train"), Is.EqualTo(123456L));
        Assert.That(root.TryGet("grad_scaler", out var none) && none is null);
        var exp = root.GetOrNull("exp_dir") as PyInert;
        Assert.That(exp, Is.Not.Null);
        Assert.That(exp!.QualifiedName, Is.EqualTo("pathlib.PosixPath"));
        Assert.That(exp.ToString(), Is.EqualTo("pathlib.PosixPath('exp', 'valle')"));
        Assert.That(PyRepr.Of(root.GetOrNull("scheduler")), Is.EqualTo("{'base_lrs': [0.05], 'last_epoch': 20, '_step_count': 21}"));

        var sd = StateDict(ck);
        Assert.That(sd.Count, Is.EqualTo(92));
        Assert.That(sd.Entries.Sum(e => ((TensorData)e.Value!).ElementCount), Is.EqualTo(1422084));
        AssertValues(Tensor(sd, "ar_text_embedding.word_embeddings.weight"), [512, 64], 40.940943069981586, -1.0408011674880981f, 0.3892594277858734f);
        AssertValues(Tensor(sd, "nar_text_embedding.word_embeddings.weight"), [512, 64], -368.4789099816003, -0.3504702150821686f, 0.5079057216644287f);
        AssertValues(Tensor(sd, "ar_audio_embedding.word_embeddings.weight"), [1025, 64], 271.92428775830376, 1.4664521217346191f, 0.7731044888496399f);
        AssertValues(Tensor(sd, "nar_stage_embeddings.6.word_embeddings.weight"), [1, 64], 12.521314889192581, -1.5284888744354248f, 0.08185189217329025f);
        Assert.That(Tensor(sd, "ar_text_embedding.word_embeddings.weight").Name, Is.EqualTo("ar_text_embedding.word_embeddings.weight"));
        Assert.That(Tensor(sd, "ar_text_embedding.word_embeddings.weight").Storage, Is.InstanceOf<NativeTensorStorage>(), "stored entries are mapped, not copied");

        // The optimizer state holds tensors too (Adam moments), named by their dict keys.
        var optimizer = (PyDict)root.GetOrNull("optimizer")!;
        var state0 = (PyDict)((PyDict)optimizer.GetOrNull("state")!).Entries[0].Value!;
        Assert.That(((TensorData)state0.GetOrNull("exp_avg")!).Name, Is.EqualTo("exp_avg"));
    }

    [TestCase("valle-tiny")]
    [TestCase("vallex-tiny")]
    public void TiedWeightsShareOneStorage(string model)
    {
        using var ck = TorchCheckpoint.Open(TestPaths.RequireShared("valle", model, "checkpoint.pt"));
        var sd = StateDict(ck);
        for (int j = 0; j < 5; j++)
        {
            var emb = Tensor(sd, $"nar_audio_embeddings.{j + 2}.word_embeddings.weight");
            var pred = Tensor(sd, $"nar_predict_layers.{j}.weight");
            Assert.That(pred.Storage, Is.SameAs(emb.Storage), $"layer {j}");
            Assert.That(pred.IsSameViewAs(emb), Is.True);
        }
        Assert.That(Tensor(sd, "nar_predict_layers.0.weight").Storage, Is.Not.SameAs(Tensor(sd, "nar_predict_layers.1.weight").Storage));
    }

    [Test]
    public void OpensVallexTinyModelOnlyCheckpoint()
    {
        using var ck = TorchCheckpoint.Open(TestPaths.RequireShared("valle", "vallex-tiny", "checkpoint.pt"));
        var root = (PyDict)ck.Root!;
        Assert.That(root.Count, Is.EqualTo(1));
        var sd = StateDict(ck);
        Assert.That(sd.Count, Is.EqualTo(94));
        Assert.That(sd.Entries.Sum(e => ((TensorData)e.Value!).ElementCount), Is.EqualTo(1619140));
        AssertValues(Tensor(sd, "ar_text_embedding.word_embeddings.weight"), [2048, 64], 401.07837495056174, -1.930853247642517f, 0.4100145995616913f);
        AssertValues(Tensor(sd, "nar_text_embedding.word_embeddings.weight"), [2048, 64], -31.14679080221768, 0.1625160127878189f, 0.37692221999168396f);
        AssertValues(Tensor(sd, "ar_audio_embedding.word_embeddings.weight"), [1026, 64], -398.79640737867885, -1.5275887250900269f, -0.3121492266654968f);
        AssertValues(Tensor(sd, "nar_language_embedding.word_embeddings.weight"), [3, 64], -20.308302046731114, -0.5935320258140564f, 2.0422372817993164f);
        Assert.That(ck.ArchiveName, Is.EqualTo("checkpoint"));
    }
}
