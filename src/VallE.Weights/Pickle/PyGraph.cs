namespace VallE.Weights.Pickle;

/// <summary>
/// Checks and walks the value graph an unpickler built. Pickles can express shared and even self-referencing
/// structures (memo); checkpoints only ever share, so a cycle is refused, as is nesting deeper than
/// <see cref="PickleLimits.MaxDepth"/> or a graph whose tree expansion exceeds <see cref="PickleLimits.MaxExpandedValues"/>
/// (a few hundred bytes of pickle can describe 2^64 paths). After <see cref="Check"/>, consumers may recurse freely.
/// </summary>
public static class PyGraph
{
    private readonly record struct Seen(bool Done, int Height, long Size);

    public static void Check(object? root, PickleLimits limits, string source)
    {
        var seen = new Dictionary<object, Seen>(ReferenceEqualityComparer.Instance);
        Visit(root, 1, seen, limits, source);
    }

    private static (long Size, int Height) Visit(object? value, int depth, Dictionary<object, Seen> seen, PickleLimits limits, string source)
    {
        if (!IsContainer(value)) return (1, 0);
        if (depth > limits.MaxDepth)
            throw new InvalidInputException($"{source}: structure nested deeper than {limits.MaxDepth} levels");
        if (seen.TryGetValue(value!, out var s))
        {
            if (!s.Done) throw new InvalidInputException($"{source}: recursive structure (a {Describe(value)} contains itself); checkpoints never need one");
            if (depth + s.Height > limits.MaxDepth)
                throw new InvalidInputException($"{source}: structure nested deeper than {limits.MaxDepth} levels");
            return (s.Size, s.Height);
        }
        seen[value!] = new Seen(false, 0, 0);
        long size = 1;
        int height = 0;
        foreach (var child in Children(value!))
        {
            var (cs, ch) = Visit(child, depth + 1, seen, limits, source);
            size = Math.Min(size + cs, long.MaxValue / 4);
            height = Math.Max(height, ch + 1);
            if (size > limits.MaxExpandedValues)
                throw new InvalidInputException($"{source}: structure expands to more than {limits.MaxExpandedValues} values (shared references multiply)");
        }
        seen[value!] = new Seen(true, height, size);
        return (size, height);
    }

    public static bool IsContainer(object? v) => v is PyTuple or PyList or PyDict or PyInert;

    private static string Describe(object? v) => v switch
    {
        PyTuple => "tuple",
        PyList => "list",
        PyDict => "dict",
        PyInert i => i.QualifiedName,
        _ => "value",
    };

    /// <summary>Direct children of a container (dict keys included), in order.</summary>
    public static IEnumerable<object?> Children(object container)
    {
        switch (container)
        {
            case PyTuple t: foreach (var x in t.Items) yield return x; break;
            case PyList l: foreach (var x in l) yield return x; break;
            case PyDict d:
                foreach (var e in d.Entries) { yield return e.Key; yield return e.Value; }
                break;
            case PyInert i:
                yield return i.Args;
                yield return i.State;
                yield return i.ListItems;
                yield return i.DictItems;
                break;
        }
    }

    /// <summary>
    /// Replaces every non-container value in every container slot with <paramref name="map"/>(value, path, key), visiting
    /// each container once (call after <see cref="Check"/>). The path reads like Python indexing:
    /// <c>['model']['encoder.weight']</c>; key is the slot's dict key when that is a string, else null.
    /// Dict keys themselves are not mapped. Returns the (possibly replaced) root.
    /// </summary>
    public static object? MapLeaves(object? root, Func<object?, string, string?, object?> map)
    {
        if (!IsContainer(root)) return map(root, "", null);
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        MapIn(root!, "", map, visited);
        return root;
    }

    private static void MapIn(object container, string path, Func<object?, string, string?, object?> map, HashSet<object> visited)
    {
        if (!visited.Add(container)) return;
        switch (container)
        {
            case PyTuple t:
                for (int i = 0; i < t.Count; i++) t.ReplaceAt(i, MapSlot(t[i], $"{path}[{i}]", null, map, visited));
                break;
            case PyList l:
                for (int i = 0; i < l.Count; i++) l[i] = MapSlot(l[i], $"{path}[{i}]", null, map, visited);
                break;
            case PyDict d:
                for (int i = 0; i < d.Count; i++)
                {
                    var e = d.Entries[i];
                    d.ReplaceValueAt(i, MapSlot(e.Value, $"{path}[{PyRepr.Of(e.Key)}]", e.Key as string, map, visited));
                }
                break;
            case PyInert x:
                x.Args = MapSlot(x.Args, $"{path}.args", null, map, visited);
                x.State = MapSlot(x.State, $"{path}.state", null, map, visited);
                if (x.ListItems is not null) MapIn(x.ListItems, path, map, visited);
                if (x.DictItems is not null) MapIn(x.DictItems, path, map, visited);
                break;
        }
    }

    private static object? MapSlot(object? value, string path, string? key, Func<object?, string, string?, object?> map, HashSet<object> visited)
    {
        if (IsContainer(value)) { MapIn(value!, path, map, visited); return value; }
        return map(value, path, key);
    }
}
