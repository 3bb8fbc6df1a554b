using VallE.Cli;
using VallE.Tests.Support;
using VallE.Weights;

namespace VallE.Tests.Models;

/// <summary>
/// <c>convert</c> stages its output in a temporary folder: a failure (full disk, bad tensor, Ctrl-C) leaves no new
/// folder, no temporary folder and no created parents behind, and an existing folder keeps its old files.
/// </summary>
public class ConvertStagingTests
{
    private const string PoisonedTensor = "ar_decoder.layers.1.linear1.weight";

    /// <summary>A tiny model whose <see cref="PoisonedTensor"/>, if given a storage, reads through it.</summary>
    private static ModelCheckpoint Checkpoint(TensorStorage? poisoned = null)
    {
        var config = InMemoryModels.Tiny();
        var tensors = InMemoryModels.StateDict(config);
        if (poisoned is not null)
        {
            var t = tensors[PoisonedTensor];
            tensors[PoisonedTensor] = new TensorData(PoisonedTensor, t.DType, t.Shape, t.Strides, 0, poisoned);
        }
        var ordered = ModelLayout.Expected(config).ToDictionary(e => e.Name, e => tensors[e.Name]);
        return InMemoryModels.Checkpoint(config, ordered);
    }

    /// <summary>Reads like a tensor until its bytes are needed, then does what a full disk or Ctrl-C would.</summary>
    private sealed class PoisonedStorage(Action onRead) : TensorStorage("poison", DType.Float32)
    {
        public override long ByteLength => 1 << 20;
        public override ReadOnlySpan<byte> Slice(long byteOffset, int byteCount)
        {
            onRead();
            return new byte[byteCount];
        }
    }

    private static PoisonedStorage DiskFull() => new(() => throw new IOException("No space left on device"));

    private static string[] Entries(string dir) =>
        Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Test]
    public void NewFolderGetsTheSameBytesAsAnExistingOneAndNoTemporaryFolderRemains()
    {
        using var tmp = TestPaths.CreateTempDir();
        Directory.CreateDirectory(tmp.File("existing"));
        using (var ck = Checkpoint())
        {
            var summary = CheckpointConverter.Convert(ck, tmp.File("new"));
            Assert.That(summary.WeightsPath, Is.EqualTo(Path.Combine(tmp.File("new"), "model.safetensors")));
            CheckpointConverter.Convert(ck, tmp.File("existing"));
        }
        Assert.That(Entries(tmp.Path), Is.EqualTo(new[] { "existing", "new" }));
        Assert.That(Entries(tmp.File("new")), Is.EqualTo(new[] { "config.json", "model.safetensors" }));
        Assert.That(Entries(tmp.File("existing")), Is.EqualTo(new[] { "config.json", "model.safetensors" }));
        foreach (string file in new[] { "model.safetensors", "config.json" })
            Assert.That(File.ReadAllBytes(Path.Combine(tmp.File("new"), file)), Is.EqualTo(File.ReadAllBytes(Path.Combine(tmp.File("existing"), file))), file);
        using var back = ModelCheckpoint.Open(tmp.File("new"));
        Assert.That(back.Get(PoisonedTensor).Shape, Is.Not.Empty);
    }

    [Test]
    public void FailureMidWriteLeavesNoFolderNoStageAndNoCreatedParents()
    {
        using var tmp = TestPaths.CreateTempDir();
        using var ck = Checkpoint(DiskFull());
        string outDir = Path.Combine(tmp.Path, "a", "b", "out");
        var e = Assert.Throws<InvalidInputException>(() => CheckpointConverter.Convert(ck, outDir));
        Assert.That(e!.Message, Does.Contain("No space left on device"));
        Assert.That(Entries(tmp.Path), Is.Empty);
    }

    [Test]
    public void FailureInAnExistingFolderKeepsItsFiles()
    {
        using var tmp = TestPaths.CreateTempDir();
        string outDir = tmp.File("out");
        using (var good = Checkpoint()) CheckpointConverter.Convert(good, outDir);
        File.WriteAllText(Path.Combine(outDir, "notes.txt"), "mine");
        var before = Entries(outDir).ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(outDir, f)));

        using var ck = Checkpoint(DiskFull());
        Assert.Throws<InvalidInputException>(() => CheckpointConverter.Convert(ck, outDir, DType.Float16));
        Assert.That(Entries(outDir), Is.EqualTo(before.Keys.Order(StringComparer.Ordinal).ToArray()));
        foreach (var (f, bytes) in before) Assert.That(File.ReadAllBytes(Path.Combine(outDir, f)), Is.EqualTo(bytes), f);
        Assert.That(Entries(tmp.Path), Is.EqualTo(new[] { "out" }));
    }

    [Test]
    public void CancellationMidWriteLeavesNothing()
    {
        using var tmp = TestPaths.CreateTempDir();
        using var cts = new CancellationTokenSource();
        using var ck = Checkpoint(new PoisonedStorage(cts.Cancel));   // Ctrl-C while this tensor is written
        Assert.Throws<OperationCanceledException>(() => CheckpointConverter.Convert(ck, tmp.File("out"), cancellation: cts.Token));
        Assert.That(Entries(tmp.Path), Is.Empty);

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        using var good = Checkpoint();
        Assert.Throws<OperationCanceledException>(() => CheckpointConverter.Convert(good, tmp.File("out"), cancellation: cancelled.Token));
        Assert.That(Entries(tmp.Path), Is.Empty);
    }

    [TestCase(230)]
    [TestCase(255)]
    public void LongLegalFolderNamesWork(int length)
    {
        using var tmp = TestPaths.CreateTempDir();
        string outDir = tmp.File(new string('x', length));
        using (var ck = Checkpoint()) CheckpointConverter.Convert(ck, outDir);
        Assert.That(Entries(tmp.Path), Is.EqualTo(new[] { new string('x', length) }));
        Assert.That(File.Exists(Path.Combine(outDir, "model.safetensors")));
    }

    [Test]
    public void CliFailureLeavesNothingAndIsOneLine()
    {
        using var tmp = TestPaths.CreateTempDir();
        InMemoryModels.WriteFolder(InMemoryModels.Tiny(), tmp.File("src"));
        File.WriteAllText(tmp.File("blocker"), "a file where a folder should go");
        var r = CliRunner.Run("convert", tmp.File("src"), Path.Combine(tmp.File("blocker"), "sub", "out"));
        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.InvalidInput), r.ToString());
        Assert.That(r.Err.Trim().Split('\n'), Has.Length.EqualTo(1), r.ToString());
        Assert.That(r.Err, Does.StartWith("valle: error: cannot create output folder"), r.ToString());
        Assert.That(Entries(tmp.Path), Is.EqualTo(new[] { "blocker", "src" }));
        Assert.That(File.ReadAllText(tmp.File("blocker")), Is.EqualTo("a file where a folder should go"));
    }
}
