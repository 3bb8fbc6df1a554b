using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace VallE.Weights;

/// <summary>A read-only name-to-tensor map that enumerates in insertion order (upstream's state_dict order).</summary>
internal sealed class OrderedTensorMap : IReadOnlyDictionary<string, TensorData>
{
    private readonly List<KeyValuePair<string, TensorData>> _items = [];
    private readonly Dictionary<string, TensorData> _byName = new(StringComparer.Ordinal);

    public void Add(string name, TensorData tensor)
    {
        _byName.Add(name, tensor);
        _items.Add(new(name, tensor));
    }

    public TensorData this[string key] => _byName[key];
    public IEnumerable<string> Keys => _items.Select(kv => kv.Key);
    public IEnumerable<TensorData> Values => _items.Select(kv => kv.Value);
    public int Count => _items.Count;
    public bool ContainsKey(string key) => _byName.ContainsKey(key);
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out TensorData value) => _byName.TryGetValue(key, out value);
    public IEnumerator<KeyValuePair<string, TensorData>> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
