using System.Text;

namespace VallE.Weights.Pickle;

/// <summary>
/// What the unpickler does when a pickle asks for a global to be called, an object to be created or built,
/// or a persistent id to be resolved. The VM never imports or runs anything: it hands the request here, where
/// it is interpreted from a fixed list or recorded as a <see cref="PyInert"/>. The base class interprets the
/// standard-library values data pickles use (OrderedDict, set, frozenset, bytearray, _codecs.encode for bytes);
/// <see cref="Torch.TorchPickleHost"/> adds torch's tensor rebuild functions and storages.
/// </summary>
public class PickleHost
{
    /// <summary>The name used in error messages (e.g. "data.pkl").</summary>
    public string Source { get; init; } = "pickle";

    /// <summary>GLOBAL / STACK_GLOBAL, after <see cref="GlobalPolicy"/> accepted the name: the value pushed.</summary>
    public virtual object? Global(string module, string name) => new PyInert(module, name);

    /// <summary>REDUCE: <paramref name="callable"/> is the bare global (a <see cref="PyInert"/> without Args).</summary>
    public virtual object? Call(PyInert callable, PyTuple args)
    {
        switch (callable.QualifiedName)
        {
            case "collections.OrderedDict":
            case "collections.defaultdict": // defaultdict(factory): the factory is dropped, the items stay
            case "builtins.dict":
            {
                var d = new PyDict();
                if (callable.Name != "defaultdict" && args.Count == 1) CopyPairs(args[0], d, callable.QualifiedName);
                return d;
            }
            case "collections.Counter":
            {
                var d = new PyDict();
                if (args.Count == 1 && args[0] is PyDict src) foreach (var e in src.Entries) d.Set(e.Key, e.Value);
                return d;
            }
            case "builtins.set":
            case "builtins.frozenset":
            case "builtins.list":
                return args.Count == 0 ? new PyList() : new PyList(Items(args[0], callable.QualifiedName));
            case "builtins.tuple":
                return args.Count == 0 ? new PyTuple([]) : new PyTuple(Items(args[0], callable.QualifiedName).ToArray());
            case "builtins.bytearray":
            case "builtins.bytes":
                if (args.Count == 0) return Array.Empty<byte>();
                if (args[0] is byte[] b) return b;
                if (args.Count == 2 && args[0] is string s && args[1] is string enc) return Encode(s, enc);
                if (args[0] is PyList list && list.All(x => x is long v && v is >= 0 and <= 255))
                    return list.Select(x => (byte)(long)x!).ToArray();
                break;
            case "_codecs.encode": // protocol 2/3 pickle bytes as _codecs.encode(str, 'latin1')
                if (args.Count == 2 && args[0] is string text && args[1] is string encoding) return Encode(text, encoding);
                break;
        }
        if (NumpyScalars.IsScalarGlobal(callable.QualifiedName) && NumpyScalars.TryDecode(args, out var scalar)) return scalar;
        return new PyInert(callable.Module, callable.Name) { Args = args };
    }

    /// <summary>NEWOBJ / NEWOBJ_EX / INST / OBJ: cls.__new__(cls, *args) in Python; here an inert record by default.</summary>
    public virtual object? NewObject(PyInert cls, PyTuple args, PyDict? kwargs)
    {
        if (cls.QualifiedName is "collections.OrderedDict" or "builtins.dict" or "collections.defaultdict" or "collections.Counter") return new PyDict();
        if (cls.QualifiedName is "builtins.set" or "builtins.frozenset" or "builtins.list") return new PyList();
        return new PyInert(cls.Module, cls.Name) { Args = args, State = kwargs is { Count: > 0 } ? kwargs : null };
    }

    /// <summary>BUILD: sets state on an inert object; state on plain values (dicts, tensors) is dropped.</summary>
    public virtual void Build(object? target, object? state)
    {
        if (target is PyInert inert) inert.State = state;
    }

    /// <summary>BINPERSID / PERSID: plain pickles have no persistent ids.</summary>
    public virtual object? PersistentLoad(object? pid) =>
        throw new InvalidInputException($"{Source}: persistent id {PyRepr.Of(pid)} is not supported here");

    private IEnumerable<object?> Items(object? iterable, string what) => iterable switch
    {
        PyList l => l,
        PyTuple t => t.Items,
        null => [],
        _ => throw new InvalidInputException($"{Source}: {what} expects a list or tuple, got {PyRepr.Of(iterable)}"),
    };

    private void CopyPairs(object? pairs, PyDict into, string what)
    {
        if (pairs is PyDict d) { foreach (var e in d.Entries) into.Set(e.Key, e.Value); return; }
        foreach (var item in Items(pairs, what))
        {
            if (item is PyTuple { Count: 2 } kv) into.Set(kv[0], kv[1]);
            else if (item is PyList { Count: 2 } kl) into.Set(kl[0], kl[1]);
            else throw new InvalidInputException($"{Source}: {what} expects (key, value) pairs, got {PyRepr.Of(item)}");
        }
    }

    private byte[] Encode(string text, string encoding) => encoding.ToLowerInvariant().Replace('_', '-') switch
    {
        "latin1" or "latin-1" or "iso-8859-1" or "iso8859-1" => EncodeLatin1(text),
        "utf-8" or "utf8" => Encoding.UTF8.GetBytes(text),
        "ascii" when text.All(c => c < 128) => Encoding.ASCII.GetBytes(text),
        _ => throw new InvalidInputException($"{Source}: _codecs.encode with unsupported encoding '{encoding}'"),
    };

    private byte[] EncodeLatin1(string text)
    {
        var bytes = new byte[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] > 0xFF) throw new InvalidInputException($"{Source}: _codecs.encode: character U+{(int)text[i]:X4} is not latin-1");
            bytes[i] = (byte)text[i];
        }
        return bytes;
    }
}
