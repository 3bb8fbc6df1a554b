using System.Text;

namespace VallE.Weights.Pickle;

// The values the safe unpickler produces. Python values map to plain .NET values where one fits:
//   None -> null, bool -> bool, int -> long (System.Numerics.BigInteger when it does not fit),
//   float -> double, str -> string, bytes/bytearray -> byte[], tuple -> PyTuple, list/set -> PyList,
//   dict / collections.OrderedDict -> PyDict, a torch tensor/parameter -> TensorData,
//   any other global (pathlib.PosixPath, argparse.Namespace, optimizer classes...) -> PyInert.
// Nothing from a file is ever executed or instantiated: PyInert only records what the file asked for.

/// <summary>A Python tuple (immutable sequence).</summary>
public sealed class PyTuple(IReadOnlyList<object?> items)
{
    private readonly object?[] _items = [.. items]; // own copy: tuples are immutable to everyone but the loader
    public IReadOnlyList<object?> Items => _items;
    internal void ReplaceAt(int index, object? value) => _items[index] = value;
    public int Count => Items.Count;
    public object? this[int index] => Items[index];
    public override string ToString() => Items.Count == 1 ? $"({PyRepr.Of(Items[0])},)" : $"({string.Join(", ", Items.Select(PyRepr.Of))})";
}

/// <summary>A Python list (also used for sets).</summary>
public sealed class PyList : List<object?>
{
    public PyList() { }
    public PyList(IEnumerable<object?> items) : base(items) { }
    public override string ToString() => $"[{string.Join(", ", this.Select(PyRepr.Of))}]";
}

/// <summary>A Python dict or OrderedDict: insertion-ordered; later assignments of an equal key replace earlier ones.</summary>
public sealed class PyDict
{
    private readonly List<KeyValuePair<object?, object?>> _entries = [];
    private readonly Dictionary<string, int> _stringKeys = new(StringComparer.Ordinal);

    public IReadOnlyList<KeyValuePair<object?, object?>> Entries => _entries;
    public int Count => _entries.Count;

    public void Set(object? key, object? value)
    {
        if (key is string s)
        {
            if (_stringKeys.TryGetValue(s, out int at)) { _entries[at] = new(key, value); return; }
            _stringKeys[s] = _entries.Count;
        }
        _entries.Add(new(key, value));
    }

    public bool TryGet(string key, out object? value)
    {
        if (_stringKeys.TryGetValue(key, out int at)) { value = _entries[at].Value; return true; }
        value = null;
        return false;
    }

    internal void ReplaceValueAt(int index, object? value) => _entries[index] = new(_entries[index].Key, value);

    public object? GetOrNull(string key) => TryGet(key, out var v) ? v : null;

    public override string ToString() => "{" + string.Join(", ", _entries.Select(e => $"{PyRepr.Of(e.Key)}: {PyRepr.Of(e.Value)}")) + "}";
}

/// <summary>
/// An object the unpickler did not build: the global it named (module, name), the arguments it would have been
/// called with, and any state BUILD would have set. Printable, never callable.
/// </summary>
public sealed class PyInert(string module, string name)
{
    public string Module { get; } = module;
    public string Name { get; } = name;
    /// <summary>Arguments of REDUCE / NEWOBJ (a PyTuple), or null when the global itself was the value.</summary>
    public object? Args { get; set; }
    /// <summary>State from BUILD (usually a PyDict), or null.</summary>
    public object? State { get; set; }
    /// <summary>Items APPEND(S) added to the object (list subclasses), or null.</summary>
    public PyList? ListItems { get; set; }
    /// <summary>Items SETITEM(S) set on the object (dict subclasses such as defaultdict variants), or null.</summary>
    public PyDict? DictItems { get; set; }
    public string QualifiedName => $"{Module}.{Name}";
    public override string ToString()
    {
        var sb = new StringBuilder(QualifiedName);
        if (Args is PyTuple t) sb.Append(t.Count == 1 ? $"({PyRepr.Of(t[0])})" : t.ToString());
        if (State is not null) sb.Append($" with state {PyRepr.Of(State)}");
        if (ListItems is not null) sb.Append($" with items {ListItems}");
        if (DictItems is not null) sb.Append($" with items {DictItems}");
        return sb.ToString();
    }
}

/// <summary>Python-like repr of unpickled values, for printing checkpoint metadata.</summary>
public static class PyRepr
{
    public static string Of(object? value) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        string s => "'" + s.Replace("\\", "\\\\").Replace("'", "\\'") + "'",
        double d => double.IsPositiveInfinity(d) ? "inf" : double.IsNegativeInfinity(d) ? "-inf" : double.IsNaN(d) ? "nan"
            : d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        byte[] bytes => $"b<{bytes.Length} bytes>",
        TensorData t => $"tensor({t.DType.ShortName()}[{string.Join(", ", t.Shape)}])",
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "?",
    };
}
