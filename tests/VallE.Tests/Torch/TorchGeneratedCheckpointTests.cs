using System.Diagnostics;
using System.Text.Json;
using VallE.Tests.Support;
using VallE.Weights;
using VallE.Weights.Pickle;
using VallE.Weights.Torch;

namespace VallE.Tests.Torch;

/// <summary>
/// Checkpoints written by the local torch (tools/make_torch_test_checkpoint.py, protocols 2 and 4) with every
/// dtype, strided views, storage offsets and shared storages, compared element by element with the manifest
/// torch wrote for them. Skipped when /usr/bin/python3 has no torch (build.sh installs python3-torch).
/// </summary>
[NonParallelizable]
public class TorchGeneratedCheckpointTests
{
    private TempDir? _dir;
    private JsonElement _manifest;

    [OneTimeSetUp]
    public void Generate()
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python)) Assert.Ignore($"{python} not found: cannot generate torch checkpoints");
        _dir = TestPaths.CreateTempDir();
        var psi = new ProcessStartInfo(python)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(TestPaths.RepoRoot, "tools", "make_torch_test_checkpoint.py"));
        psi.ArgumentList.Add(_dir.Path);
        psi.Environment["OMP_NUM_THREADS"] = "1";
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0 && err.Contains("No module named 'torch'"))
            Assert.Ignore($"{python} has no torch module (apt-get install python3-torch): cannot generate torch checkpoints");
        Assert.That(p.ExitCode, Is.EqualTo(0), err);
        _manifest = JsonDocument.Parse(File.ReadAllText(_dir.File("manifest.json"))).RootElement.Clone();
    }

    [OneTimeTearDown]
    public void Cleanup() => _dir?.Dispose();

    private static DType ParseDType(string torchName) => torchName switch
    {
        "float32" => DType.Float32, "float16" => DType.Float16, "bfloat16" => DType.BFloat16, "float64" => DType.Float64,
        "int64" => DType.Int64, "int32" => DType.Int32, "int16" => DType.Int16, "int8" => DType.Int8,
        "uint8" => DType.UInt8, "bool" => DType.Bool,
        _ => throw new ArgumentException(torchName),
    };

    /// <summary>Element values in C order as float64, whatever the dtype and strides (an independent reader for the test).</summary>
    private static double[] Elements(TensorData t)
    {
        var result = new double[t.ElementCount];
        var index = new long[t.Rank];
        int size = t.DType.SizeOf();
        for (long n = 0; n < t.ElementCount; n++)
        {
            long at = t.Offset;
            for (int d = 0; d < t.Rank; d++) at += index[d] * t.Strides[d];
            var b = t.Storage.Slice(at * size, size);
            result[n] = t.DType switch
            {
                DType.Float32 => BitConverter.ToSingle(b),
                DType.Float16 => (double)BitConverter.ToHalf(b),
                DType.BFloat16 => BitConverter.Int32BitsToSingle(BitConverter.ToUInt16(b) << 16),
                DType.Float64 => BitConverter.ToDouble(b),
                DType.Int64 => BitConverter.ToInt64(b),
                DType.Int32 => BitConverter.ToInt32(b),
                DType.Int16 => BitConverter.ToInt16(b),
                DType.Int8 => (sbyte)b[0],
                _ => b[0],
            };
            for (int d = t.Rank - 1; d >= 0; d--)
            {
                if (++index[d] < t.Shape[d]) break;
                index[d] = 0;
            }
        }
        return result;
    }

    [TestCase("p2.pt")]
    [TestCase("p4.pt")]
    public void MatchesTorchElementByElement(string file)
    {
        using var ck = TorchCheckpoint.Open(_dir!.File(file));
        var sd = (PyDict)((PyDict)ck.Root!).GetOrNull("state_dict")!;
        var expected = _manifest.GetProperty("tensors");
        Assert.That(sd.Count, Is.EqualTo(expected.EnumerateObject().Count()));
        foreach (var prop in expected.EnumerateObject())
        {
            var t = (TensorData)sd.GetOrNull(prop.Name)!;
            var e = prop.Value;
            Assert.That(t.Name, Is.EqualTo(prop.Name));
            Assert.That(t.DType, Is.EqualTo(ParseDType(e.GetProperty("dtype").GetString()!)), prop.Name);
            Assert.That(t.Shape, Is.EqualTo(e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray()), prop.Name);
            Assert.That(t.Strides, Is.EqualTo(e.GetProperty("stride").EnumerateArray().Select(x => x.GetInt64()).ToArray()), prop.Name);
            Assert.That(t.Offset, Is.EqualTo(e.GetProperty("offset").GetInt64()), prop.Name);
            var values = e.GetProperty("values").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            Assert.That(Elements(t), Is.EqualTo(values), prop.Name);
        }
    }

    [TestCase("p2.pt")]
    [TestCase("p4.pt")]
    public void SharedStoragesAreOneObject(string file)
    {
        using var ck = TorchCheckpoint.Open(_dir!.File(file));
        var sd = (PyDict)((PyDict)ck.Root!).GetOrNull("state_dict")!;
        var groups = _manifest.GetProperty("shared").EnumerateArray().Select(g => g.EnumerateArray().Select(x => x.GetString()!).ToArray()).ToArray();
        Assert.That(groups, Has.Some.Contains("base_t"), "the manifest lists the transposed view with its base");
        foreach (var group in groups)
        {
            var first = ((TensorData)sd.GetOrNull(group[0])!).Storage;
            foreach (var name in group)
                Assert.That(((TensorData)sd.GetOrNull(name)!).Storage, Is.SameAs(first), $"{name} shares {group[0]}'s storage");
        }
        var distinct = sd.Entries.Select(e => ((TensorData)e.Value!).Storage).Distinct().Count();
        Assert.That(distinct, Is.EqualTo(sd.Count - groups.Sum(g => g.Length - 1)));
        Assert.That(ck.StorageCount, Is.EqualTo(distinct), "the nested f16 reference reuses the state_dict storage");
    }

    [TestCase("p2.pt")]
    [TestCase("p4.pt")]
    public void PlainValuesAroundTensors(string file)
    {
        using var ck = TorchCheckpoint.Open(_dir!.File(file));
        var root = (PyDict)ck.Root!;
        Assert.That(PyRepr.Of(root.GetOrNull("list")),
            Is.EqualTo("[1, -2, 1180591620717411303424, -36893488147419103232, 3.5, inf, None, True, 'ünïcode', b<7 bytes>]"));
        var bytes = (byte[])((PyList)root.GetOrNull("list")!)[9]!;
        Assert.That(bytes, Is.EqualTo(new byte[] { 0, 0xff, (byte)'b', (byte)'y', (byte)'t', (byte)'e', (byte)'s' }),
            "protocol 2 pickles bytes as _codecs.encode(str, 'latin1'), protocol 4 as SHORT_BINBYTES");
        var tuple = (PyTuple)root.GetOrNull("tuple")!;
        Assert.That(tuple[0], Is.EqualTo(1L));
        var inner = (PyList)((PyTuple)tuple[1]!)[1]!;
        Assert.That(inner[0], Is.InstanceOf<TensorData>());
        Assert.That(((TensorData)inner[0]!).Storage, Is.SameAs(((TensorData)((PyDict)root.GetOrNull("state_dict")!).GetOrNull("f16")!).Storage));
        Assert.That(PyRepr.Of(root.GetOrNull("set")), Is.EqualTo("[7]"));
        Assert.That(PyRepr.Of(root.GetOrNull("path")), Is.EqualTo("pathlib.PurePosixPath('runs', 'x')"));
    }
}
