using System.Buffers.Binary;
using System.Text;

namespace VallE.Tests.Pickle;

/// <summary>Hand-assembles pickle bytes opcode by opcode, so tests can write exactly the (hostile) stream they mean.</summary>
internal sealed class PickleBuilder
{
    private readonly List<byte> _b = [];

    public byte[] Bytes => [.. _b];

    public PickleBuilder Raw(params byte[] bytes) { _b.AddRange(bytes); return this; }
    public PickleBuilder Op(char opcode) { _b.Add((byte)opcode); return this; }
    public PickleBuilder Proto(int version) => Raw(0x80, (byte)version);
    public PickleBuilder Mark() => Op('(');
    public PickleBuilder Stop() => Op('.');
    public PickleBuilder None() => Op('N');
    public PickleBuilder EmptyDict() => Op('}');
    public PickleBuilder EmptyList() => Op(']');
    public PickleBuilder EmptyTuple() => Op(')');
    public PickleBuilder Tuple() => Op('t');
    public PickleBuilder Tuple1() => Raw(0x85);
    public PickleBuilder Tuple2() => Raw(0x86);
    public PickleBuilder Tuple3() => Raw(0x87);
    public PickleBuilder Append() => Op('a');
    public PickleBuilder SetItem() => Op('s');
    public PickleBuilder SetItems() => Op('u');
    public PickleBuilder Reduce() => Op('R');
    public PickleBuilder Build() => Op('b');
    public PickleBuilder BinPersId() => Op('Q');
    public PickleBuilder False() => Raw(0x89);

    public PickleBuilder Int(int v)
    {
        _b.Add((byte)'J');
        Span<byte> s = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(s, v);
        _b.AddRange(s.ToArray());
        return this;
    }

    public PickleBuilder Str(string s)
    {
        var utf8 = Encoding.UTF8.GetBytes(s);
        _b.Add((byte)'X');
        Span<byte> n = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(n, utf8.Length);
        _b.AddRange(n.ToArray());
        _b.AddRange(utf8);
        return this;
    }

    public PickleBuilder Global(string module, string name) { Op('c'); _b.AddRange(Encoding.UTF8.GetBytes($"{module}\n{name}\n")); return this; }
    public PickleBuilder Put(byte index) => Raw((byte)'q', index);
    public PickleBuilder Get(byte index) => Raw((byte)'h', index);

    /// <summary>(a, b, ...) from ints.</summary>
    public PickleBuilder IntTuple(params int[] values)
    {
        Mark();
        foreach (var v in values) Int(v);
        return Tuple();
    }

    /// <summary>persistent_load(('storage', torch.&lt;type&gt;, key, 'cpu', numel)).</summary>
    public PickleBuilder Storage(string key, int numel, string type = "FloatStorage") =>
        Mark().Str("storage").Global("torch", type).Str(key).Str("cpu").Int(numel).Tuple().BinPersId();

    /// <summary>torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()).</summary>
    public PickleBuilder Tensor(string key, int numel, int offset, int[] size, int[] stride, string type = "FloatStorage")
    {
        Global("torch._utils", "_rebuild_tensor_v2");
        Mark();
        Storage(key, numel, type);
        Int(offset).IntTuple(size).IntTuple(stride).False();
        Global("collections", "OrderedDict").EmptyTuple().Reduce();
        return Tuple().Reduce();
    }
}
