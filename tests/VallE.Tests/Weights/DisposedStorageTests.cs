using VallE.Tests.Support;
using VallE.Weights;
using VallE.Weights.Torch;

namespace VallE.Tests.Weights;

/// <summary>A mapped tensor used after its checkpoint is closed must fail cleanly, never read unmapped memory.</summary>
public class DisposedStorageTests
{
    [Test]
    public void TensorOfDisposedTorchCheckpointThrowsObjectDisposed()
    {
        string path = TestPaths.RequireShared("valle", "valle-tiny", "checkpoint.pt");
        TensorData tensor;
        using (var checkpoint = TorchCheckpoint.Open(path))
        {
            tensor = checkpoint.AllTensors().First(t => t.DType == DType.Float32);
            Assert.That(tensor.ToFloat32(), Is.Not.Empty);
        }
        Assert.Throws<ObjectDisposedException>(() => tensor.ToFloat32());
    }

    [Test]
    public void TensorOfDisposedModelCheckpointThrowsObjectDisposed()
    {
        string path = TestPaths.RequireShared("valle", "vallex-tiny", "checkpoint.pt");
        TensorData tensor;
        using (var checkpoint = ModelCheckpoint.Open(path, new ConfigOverrides { NHead = 4 }))
            tensor = checkpoint.Get("ar_text_embedding.word_embeddings.weight");
        Assert.Throws<ObjectDisposedException>(() => tensor.ToFloat32());
    }
}
