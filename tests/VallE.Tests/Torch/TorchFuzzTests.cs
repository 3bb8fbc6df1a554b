using VallE.Tests.Pickle;
using VallE.Tests.Support;
using VallE.Tests.Zip;
using VallE.Weights;
using VallE.Weights.Pickle;
using VallE.Weights.Torch;

namespace VallE.Tests.Torch;

/// <summary>
/// Seeded random corruption of a real checkpoint and of its data.pkl: whatever the damage, opening either
/// succeeds or throws <see cref="InvalidInputException"/>, never any other exception (no crash, no hang, no
/// IndexOutOfRange/InvalidCast/OutOfMemory leaking out of the parser).
/// </summary>
public class TorchFuzzTests
{
    private static void OpenAndWalk(string path)
    {
        using var ck = TorchCheckpoint.Open(path);
        foreach (var t in ck.AllTensors())
            if (t.ElementCount > 0) _ = t.Storage.Slice((t.Offset) * t.DType.SizeOf(), t.DType.SizeOf());
        _ = PyRepr.Of(ck.Root);
    }

    /// <summary>A small torch-shaped checkpoint: a dict of tensors over two storages (one shared, one a strided view).</summary>
    private static byte[] SmallCheckpoint()
    {
        var p = new PickleBuilder().Proto(2).EmptyDict().Mark()
            .Str("a").Tensor("0", 6, 0, [2, 3], [3, 1])
            .Str("a_t").Tensor("0", 6, 0, [3, 2], [1, 3])
            .Str("b").Tensor("1", 4, 1, [3], [1], "HalfStorage")
            .Str("n").Int(7)
            .SetItems().Stop();
        return new TestZip().Add("archive/data.pkl", p.Bytes).Add("archive/data/0", new byte[24]).Add("archive/data/1", new byte[8])
            .Add("archive/version", "3\n").Build().Bytes;
    }

    private static void FuzzZip(byte[] original, int iterations, int seed, int hotTail)
    {
        using var tmp = TestPaths.CreateTempDir();
        var rng = new Random(seed);
        for (int iter = 0; iter < iterations; iter++)
        {
            var bytes = (byte[])original.Clone();
            for (int f = rng.Next(1, 6); f > 0; f--)
            {
                // Most flips hit the tail, where the central directory and end records live.
                int at = rng.Next(3) == 0 ? rng.Next(bytes.Length) : rng.Next(Math.Max(0, bytes.Length - hotTail), bytes.Length);
                bytes[at] = (byte)rng.Next(256);
            }
            if (rng.Next(10) == 0) bytes = bytes[..rng.Next(bytes.Length)];
            string path = tmp.File($"f{iter}.pt");
            File.WriteAllBytes(path, bytes);
            try { OpenAndWalk(path); }
            catch (InvalidInputException) { }
            catch (Exception e) { Assert.Fail($"iteration {iter}: {e.GetType().Name}: {e.Message}"); }
            File.Delete(path);
        }
    }

    [Test]
    public void RandomByteCorruptionOfASmallCheckpointOnlyEverGivesInvalidInput()
    {
        var original = SmallCheckpoint();
        using (var tmp = TestPaths.CreateTempDir())
        {
            File.WriteAllBytes(tmp.File("ok.pt"), original);
            OpenAndWalk(tmp.File("ok.pt")); // the uncorrupted file is valid
        }
        FuzzZip(original, 300, 1, original.Length);
    }

    [Test]
    public void RandomByteCorruptionOfTheFixtureOnlyEverGivesInvalidInput() =>
        FuzzZip(File.ReadAllBytes(TestPaths.RequireShared("valle", "vallex-tiny", "checkpoint.pt")), 15, 20261201, 40_000);

    [Test]
    public void RandomCorruptionOfDataPklOnlyEverGivesInvalidInput()
    {
        // Torch's own pickle of the valle-tiny checkpoint (protocol 2, ~31 KB): mutate, truncate, splice.
        using var zip = VallE.Weights.IO.MappedZipArchive.Open(TestPaths.RequireShared("valle", "valle-tiny", "checkpoint.pt"));
        var pickle = zip.ReadAllBytes(zip.GetEntry("checkpoint/data.pkl"), 1 << 20);
        var rng = new Random(7);
        for (int iter = 0; iter < 250; iter++)
        {
            var bytes = (byte[])pickle.Clone();
            switch (rng.Next(3))
            {
                case 0:
                    for (int f = rng.Next(1, 4); f > 0; f--) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
                    break;
                case 1:
                    bytes = bytes[..rng.Next(bytes.Length)];
                    break;
                default:
                    int a = rng.Next(bytes.Length), b = rng.Next(bytes.Length), n = rng.Next(1, 64);
                    n = Math.Min(n, Math.Min(bytes.Length - a, bytes.Length - b));
                    Array.Copy(pickle, a, bytes, b, n);
                    break;
            }
            try
            {
                var host = new TorchPickleHost(zip, "checkpoint/", bigEndian: false) { Source = "data.pkl" };
                _ = PyRepr.Of(PyGraph.MapLeaves(Unpickler.Load(bytes, host), host.Materialize));
            }
            catch (InvalidInputException) { }
            catch (Exception e) { Assert.Fail($"iteration {iter}: {e.GetType().Name}: {e.Message}"); }
        }
    }
}
