using System.Numerics;
using System.Text;
using VallE.Weights;
using VallE.Weights.Pickle;

namespace VallE.Tests.Pickle;

/// <summary>The pickle VM on valid streams of every protocol and on hostile ones (each a clear, fast, bounded error).</summary>
public class UnpicklerTests
{
    private static readonly PickleHost Host = new() { Source = "data.pkl" };

    private static object? Load(byte[] bytes) => Unpickler.Load(bytes, Host);
    private static object? Load(PickleBuilder p) => Load(p.Bytes);

    private static string Rejects(byte[] bytes, string fragment)
    {
        var e = Assert.Throws<InvalidInputException>(() => Load(bytes));
        Assert.That(e!.Message, Does.StartWith("data.pkl: "));
        Assert.That(e.Message, Does.Contain(fragment));
        return e.Message;
    }

    private static string Rejects(PickleBuilder p, string fragment) => Rejects(p.Bytes, fragment);

    // Produced by CPython's pickle.dumps({'a': [1, 2.5, None, True], 'b': (u'x', b'y')}, protocol=N) (captured at dev time).
    [TestCase("(dp0\nVa\np1\n(lp2\nI1\naF2.5\naNaI01\nasVb\np3\n(Vx\np4\nc_codecs\nencode\np5\n(Vy\np6\nVlatin1\np7\ntp8\nRp9\ntp10\ns.", TestName = "Protocol0")]
    [TestCase("}q\u0000(X\u0001\u0000\u0000\u0000aq\u0001]q\u0002(K\u0001G@\u0004\u0000\u0000\u0000\u0000\u0000\u0000NI01\neX\u0001\u0000\u0000\u0000bq\u0003(X\u0001\u0000\u0000\u0000xq\u0004c_codecs\nencode\nq\u0005(X\u0001\u0000\u0000\u0000yq\u0006X\u0006\u0000\u0000\u0000latin1q\u0007tq\u0008Rq\u0009tq\nu.", TestName = "Protocol1")]
    public void LoadsTextAndBinaryProtocols(string latin1)
    {
        var root = (PyDict)Load(Encoding.Latin1.GetBytes(latin1))!;
        Assert.That(PyRepr.Of(root), Does.StartWith("{'a': [1, 2.5, None, True], 'b': ('x', b<1 bytes>)}"));
        Assert.That(((byte[])((PyTuple)root.GetOrNull("b")!)[1]!)[0], Is.EqualTo((byte)'y'));
    }

    [Test]
    public void LoadsProtocol4And5Opcodes()
    {
        // pickle.dumps({'s': {1}, 'f': frozenset(), 'big': 2**80, 'by': bytearray(b'z')}, protocol=5) (dev time)
        var bytes = Convert.FromHexString(
            "80059539000000000000007d94288c0173948f94284b01908c0166942891948c03626967948a0b00000000000000000000018c026279949601000000000000007a94752e");
        var root = (PyDict)Load(bytes)!;
        Assert.That(root.GetOrNull("s"), Is.InstanceOf<PyList>());
        Assert.That(((PyList)root.GetOrNull("s")!)[0], Is.EqualTo(1L));
        Assert.That(root.GetOrNull("big"), Is.EqualTo(BigInteger.Pow(2, 80)));
        Assert.That(root.GetOrNull("by"), Is.EqualTo(new byte[] { (byte)'z' }));
    }

    [Test]
    public void DecodesNumpyScalarsFromTheirBytes()
    {
        // pickle.dumps({'a': np.float64(1.5), 'b': np.int64(-3), 'c': np.bool_(True), 'd': np.float32(0.25),
        //               'e': np.int32(7), 'f': np.complex64(1j)}, protocol=2) with numpy 1.24 (dev time)
        var p2 = Convert.FromHexString(
            "80027d7100285801000000617101636e756d70792e636f72652e6d756c746961727261790a7363616c61720a7102636e756d70790a64747970650a71035802000000663871048988877105527106284b0358010000003c71074e4e4e4affffffff4affffffff4b0074710862635f636f646563730a656e636f64650a71095809000000000000000000c3b83f710a58060000006c6174696e31710b86710c52710d86710e52710f5801000000627110680268035802000000693871118988877112527113284b0368074e4e4e4affffffff4affffffff4b007471146268095810000000c3bdc3bfc3bfc3bfc3bfc3bfc3bfc3bf7115680b867116527117867118527119580100000063711a6802680358020000006231711b898887711c52711d284b0358010000007c711e4e4e4e4affffffff4affffffff4b0074711f6268095801000000017120680b8671215271228671235271245801000000647125680268035802000000663471268988877127527128284b0368074e4e4e4affffffff4affffffff4b0074712962680958050000000000c2803e712a680b86712b52712c86712d52712e580100000065712f680268035802000000693471308988877131527132284b0368074e4e4e4affffffff4affffffff4b007471336268095804000000070000007134680b86713552713686713752713858010000006671396802680358020000006338713a898887713b52713c284b0368074e4e4e4affffffff4affffffff4b0074713d6268095809000000000000000000c2803f713e680b86713f527140867141527142752e");
        var root = (PyDict)Load(p2)!;
        Assert.That(root.GetOrNull("a"), Is.EqualTo(1.5));
        Assert.That(root.GetOrNull("b"), Is.EqualTo(-3L));
        Assert.That(root.GetOrNull("c"), Is.EqualTo(true));
        Assert.That(root.GetOrNull("d"), Is.EqualTo(0.25));
        Assert.That(root.GetOrNull("e"), Is.EqualTo(7L));
        Assert.That(root.GetOrNull("f"), Is.InstanceOf<PyInert>(), "complex stays inert");
        Assert.That(((PyInert)root.GetOrNull("f")!).QualifiedName, Is.EqualTo("numpy.core.multiarray.scalar"));

        // protocol 4 spells the bytes SHORT_BINBYTES and the globals STACK_GLOBAL
        var p4 = Convert.FromHexString(
            "80049570000000000000007d948c0161948c156e756d70792e636f72652e6d756c74696172726179948c067363616c61729493948c056e756d7079948c0564747970659493948c02663894898887945294284b038c013c944e4e4e4affffffff4affffffff4b007494624308000000000000f83f9486945294732e");
        Assert.That(((PyDict)Load(p4)!).GetOrNull("a"), Is.EqualTo(1.5));
    }

    [Test]
    public void UnknownGlobalsBecomeInertPlaceholders()
    {
        var p = new PickleBuilder().Proto(2).Global("argparse", "Namespace").EmptyTuple().Op('R')
            .EmptyDict().Str("lr").Int(3).SetItem().Build().Stop();
        var inert = (PyInert)Load(p)!;
        Assert.That(inert.QualifiedName, Is.EqualTo("argparse.Namespace"));
        Assert.That(inert.ToString(), Is.EqualTo("argparse.Namespace() with state {'lr': 3}"));

        // types.SimpleNamespace is plain data although the rest of `types` (FunctionType, CodeType) is refused
        var ns = new PickleBuilder().Proto(2).Global("types", "SimpleNamespace").EmptyTuple().Op('R').Stop();
        Assert.That(((PyInert)Load(ns)!).QualifiedName, Is.EqualTo("types.SimpleNamespace"));
        Rejects(new PickleBuilder().Proto(2).Global("types", "CodeType").Stop(), "refusing global 'types.CodeType'");
    }

    [TestCase("os", "system")]
    [TestCase("posix", "system")]
    [TestCase("nt", "system")]
    [TestCase("builtins", "eval")]
    [TestCase("builtins", "exec")]
    [TestCase("builtins", "getattr")]
    [TestCase("builtins", "__import__")]
    [TestCase("__builtin__", "open")]
    [TestCase("__builtin__", "apply")]
    [TestCase("subprocess", "Popen")]
    [TestCase("sys", "modules")]
    [TestCase("shutil", "rmtree")]
    [TestCase("socket", "socket")]
    [TestCase("importlib", "import_module")]
    [TestCase("runpy", "run_path")]
    [TestCase("pickle", "loads")]
    [TestCase("os.path", "join")]
    [TestCase("torch", "load")]
    [TestCase("torch.hub", "load")]
    [TestCase("collections", "__class__")]
    [TestCase("_posixsubprocess", "fork_exec")]
    [TestCase("pydoc", "pipepager")]
    [TestCase("codecs", "open")]
    public void RefusesDangerousGlobals(string module, string name)
    {
        string normalized = module == "__builtin__" ? "builtins" : module;
        var msg = Rejects(new PickleBuilder().Proto(2).Global(module, name).Str("echo pwned").Tuple1().Reduce().Stop(), "refusing global");
        Assert.That(msg, Is.EqualTo($"data.pkl: refusing global '{normalized}.{name}' (checkpoints never need it)"));
    }

    [Test]
    public void RefusesDangerousStackGlobal()
    {
        // protocol 4: STACK_GLOBAL takes module and name from the stack
        var p = new PickleBuilder().Proto(4).Raw(0x8c, 2).Raw("os"u8.ToArray()).Raw(0x8c, 6).Raw("system"u8.ToArray()).Raw(0x93).Stop();
        Assert.That(Rejects(p, "refusing"), Is.EqualTo("data.pkl: refusing global 'os.system' (checkpoints never need it)"));
    }

    [Test]
    public void RefusesCallingSomethingThatIsNotAGlobal() =>
        Rejects(new PickleBuilder().Proto(2).EmptyDict().EmptyTuple().Reduce().Stop(), "can only call a global");

    [Test]
    public void RejectsOpcodeNewerThanTheDeclaredProtocol()
    {
        Rejects(new PickleBuilder().Proto(2).Raw(0x8c, 1, (byte)'x').Stop(), "opcode of protocol 4 in a protocol 2 pickle");
        Rejects(new PickleBuilder().Raw(0x88).Stop(), "opcode of protocol 2 in a protocol 1 pickle");
    }

    [Test]
    public void RejectsUnsupportedProtocol() => Rejects(new PickleBuilder().Proto(6).None().Stop(), "unsupported pickle protocol 6");

    [TestCase((byte)0xff)]
    [TestCase((byte)'A')]
    [TestCase((byte)0x99)]
    public void RejectsUnknownOpcode(byte op) => Rejects(new PickleBuilder().Proto(2).Raw(op).Stop(), $"unknown opcode 0x{op:x2} at byte 2");

    [Test]
    public void RejectsStackUnderflow()
    {
        Rejects(new PickleBuilder().Proto(2).Tuple2().Stop(), "stack underflow");
        Rejects(new PickleBuilder().Proto(2).Stop(), "stack underflow");
        Rejects(new PickleBuilder().Proto(2).None().Tuple().Stop(), "no MARK");
        Rejects(new PickleBuilder().Proto(2).Mark().Append().Stop(), "stack underflow"); // cannot pop below a MARK
    }

    [Test]
    public void RejectsMemoMiss() => Rejects(new PickleBuilder().Proto(2).None().Put(0).Get(5).Stop(), "memo miss (no value stored under 5)");

    [Test]
    public void RejectsTruncatedPickle()
    {
        var full = new PickleBuilder().Proto(2).EmptyDict().Str("key").Str("value").SetItem().Stop().Bytes;
        for (int cut = 1; cut < full.Length - 2; cut++)
            Assert.Throws<InvalidInputException>(() => Load(full[..^cut]), $"cut {cut}");
        Rejects(full[..^1], "truncated pickle");
        Rejects(full[..^4], "truncated pickle");
    }

    [Test]
    public void RejectsDeclaredLengthsPastTheEndWithoutAllocating()
    {
        // BINBYTES8 / BINUNICODE8 / FRAME / LONG4 declaring exabytes: an error, not an OutOfMemoryException.
        Rejects(new PickleBuilder().Proto(4).Raw(0x8e).Raw(BitConverter.GetBytes(1L << 60)).Stop(), "declares 1152921504606846976 bytes");
        Rejects(new PickleBuilder().Proto(4).Raw(0x8d).Raw(BitConverter.GetBytes(long.MaxValue)).Stop(), "truncated pickle");
        Rejects(new PickleBuilder().Proto(4).Raw(0x95).Raw(BitConverter.GetBytes(1L << 40)).None().Stop(), "frame of");
        Rejects(new PickleBuilder().Proto(2).Raw(0x8b).Raw(BitConverter.GetBytes(int.MaxValue)).Stop(), "truncated pickle");
        Rejects(new PickleBuilder().Proto(2).Raw(0x8b).Raw(BitConverter.GetBytes(-5)).Stop(), "negative byte count");
        Rejects(new PickleBuilder().Proto(2).Raw((byte)'X').Raw(BitConverter.GetBytes(uint.MaxValue)).Stop(), "truncated pickle");
    }

    [Test]
    public void RejectsHugeDecimalIntegers() =>
        Rejects(new PickleBuilder().Op('I').Raw(Encoding.ASCII.GetBytes(new string('9', 100_000) + "\n")).Stop(), "bad integer literal");

    [Test]
    public void RejectsDeeplyNestedStructures()
    {
        const int depth = 100_000;
        var p = new PickleBuilder().Proto(2);
        for (int i = 0; i < depth; i++) p.EmptyList();
        for (int i = 0; i < depth - 1; i++) p.Append();
        Rejects(p.Stop(), "nested deeper than 100 levels");

    }

    [Test]
    public void RejectsDeepNestingBuiltWithMarks()
    {
        const int depth = 5000;
        var p = new PickleBuilder().Proto(2);
        for (int i = 0; i < depth; i++) p.Mark();
        p.None();
        for (int i = 0; i < depth; i++) p.Op('l');
        Rejects(p.Stop(), "nested deeper");
    }

    [Test]
    public void RejectsSelfReferencingStructure()
    {
        // l = []; l.append(l)
        Rejects(new PickleBuilder().Proto(2).EmptyList().Put(0).Get(0).Append().Stop(), "recursive structure");
    }

    [Test]
    public void RejectsBillionLaughs()
    {
        // x0 = []; x(k+1) = [xk, xk]: 64 levels of sharing = 2^64 paths from ~600 bytes.
        var p = new PickleBuilder().Proto(2).EmptyList().Put(0);
        for (byte k = 0; k < 64; k++) p.Mark().Get(k).Get(k).Op('l').Put((byte)(k + 1)).Op('0');
        p.Get(64);
        Rejects(p.Stop(), "expands to more than");
    }

    [Test]
    public void SharedValuesStayShared()
    {
        var p = new PickleBuilder().Proto(2).EmptyList().Put(0).Op('0').Mark().Get(0).Get(0).Tuple().Stop();
        var t = (PyTuple)Load(p)!;
        Assert.That(t[0], Is.SameAs(t[1]));
    }

    [Test]
    public void RejectsExtensionCodesAndOutOfBandBuffers()
    {
        Rejects(new PickleBuilder().Proto(2).Raw(0x82, 1).Stop(), "extension registry");
        Rejects(new PickleBuilder().Proto(5).Raw(0x97).Stop(), "out-of-band buffers");
    }

    [Test]
    public void RejectsPersistentIdsWithoutAHost() =>
        Rejects(new PickleBuilder().Proto(2).Str("x").BinPersId().Stop(), "persistent id 'x' is not supported");

    [Test]
    public void RejectsInvalidUtf8() =>
        Rejects(new PickleBuilder().Proto(2).Raw((byte)'X', 2, 0, 0, 0, 0xc3, 0x28).Stop(), "not valid UTF-8");

    [Test]
    public void EveryOpcodeHasItsPickletoolsName()
    {
        var opcodes = Enumerable.Range(0, 256).Where(b => PickleOpcodes.ProtocolOf((byte)b) >= 0).ToList();
        Assert.That(opcodes, Has.Count.EqualTo(68), "pickle protocols 0-5 define 68 opcodes");
        foreach (int b in opcodes)
        {
            Assert.That(Enum.IsDefined(typeof(PickleOpcode), (byte)b), $"0x{b:x2}");
            Assert.That(PickleOpcodes.Describe((byte)b), Does.Match(@"^[A-Z_0-9]+ \(0x"), $"0x{b:x2}");
        }
        Assert.That(PickleOpcodes.Describe(0x8c), Is.EqualTo("SHORT_BINUNICODE (0x8c)"));
    }

    [Test]
    public void LimitsAreConfigurable()
    {
        var p = new PickleBuilder().Proto(2).EmptyList().EmptyList().Append().Stop();
        Assert.DoesNotThrow(() => Unpickler.Load(p.Bytes, Host));
        Assert.Throws<InvalidInputException>(() => Unpickler.Load(p.Bytes, Host, new PickleLimits { MaxDepth = 1 }));
    }
}
