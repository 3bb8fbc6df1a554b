using System.Globalization;
using VallE.Weights.Pickle;

namespace VallE.Weights;

/// <summary>
/// Hyper-parameters a file states about itself, under the snake_case names <c>valle inspect --json</c> prints
/// (<c>family</c>, <c>d_model</c>, <c>nhead</c>, ...). Filled from icefall's top-level checkpoint keys
/// (<c>decoder_dim</c>, <c>num_decoder_layers</c>, <c>model_name</c>, ...) or from a converted config.json.
/// Values are validated for type here, so a string where a number belongs is reported with its key.
/// </summary>
public sealed class HyperParameters
{
    private readonly Dictionary<string, object> _values = new(StringComparer.Ordinal);

    public static readonly HyperParameters Empty = new();

    /// <summary>icefall key -> our name, for the integers, floats and flags the model constructor takes.</summary>
    private static readonly (string Icefall, string Name, Type Type)[] IcefallKeys =
    [
        ("decoder_dim", "d_model", typeof(long)),
        ("nhead", "nhead", typeof(long)),
        ("num_decoder_layers", "num_layers", typeof(long)),
        ("scale_factor", "scale_factor", typeof(double)),
        ("norm_first", "norm_first", typeof(bool)),
        ("add_prenet", "add_prenet", typeof(bool)),
        ("prefix_mode", "prefix_mode", typeof(long)),
        ("share_embedding", "share_embedding", typeof(bool)),
        ("prepend_bos", "prepend_bos", typeof(bool)),
        ("num_quantizers", "num_quantizers", typeof(long)),
    ];

    public bool IsEmpty => _values.Count == 0;
    public IEnumerable<string> Names => _values.Keys;

    public void Set(string name, object value) => _values[name] = value;

    public bool TryGet<T>(string name, out T value)
    {
        if (_values.TryGetValue(name, out var v) && v is T t)
        {
            value = t;
            return true;
        }
        value = default!;
        return false;
    }

    public int? Int(string name)
    {
        if (!TryGet(name, out long v)) return null;
        if (v is < int.MinValue or > int.MaxValue) throw new InvalidInputException($"hyper-parameter '{name}' = {v} is out of range");
        return (int)v;
    }

    public double? Double(string name) => TryGet(name, out double v) ? v : null;
    public bool? Bool(string name) => TryGet(name, out bool v) ? v : null;
    public ModelFamily? Family => TryGet("family", out ModelFamily f) ? f : null;

    /// <summary>Reads icefall's top-level keys from a training checkpoint's root dict (absent keys stay absent).</summary>
    public static HyperParameters FromIcefall(PyDict root)
    {
        var hp = new HyperParameters();
        foreach (var (icefall, name, type) in IcefallKeys)
        {
            if (!root.TryGet(icefall, out var raw) || raw is null) continue;
            hp.Set(name, Coerce(raw, type, $"checkpoint key '{icefall}'"));
        }
        if (root.TryGet("model_name", out var modelName) && modelName is not null)
        {
            if (modelName is not string s)
                throw new InvalidInputException($"checkpoint key 'model_name' is {PyRepr.Of(modelName)}, expected a string");
            hp.Set("family", ParseModelName(s));
        }
        return hp;
    }

    /// <summary>icefall's <c>model_name</c> as lifeiteng's get_model matches it (case-insensitive).</summary>
    public static ModelFamily ParseModelName(string s) => s.ToLowerInvariant() switch
    {
        "vall-e" or "valle" => ModelFamily.Valle,
        "vall-f" or "vallf" => ModelFamily.Vallf,
        "vall-e-x" or "vallex" or "vall-e x" => ModelFamily.VallEX,
        _ => throw new InvalidInputException($"not a VALL-E checkpoint: model_name '{s}' is not VALL-E, VALL-F or VALL-E X"),
    };

    internal static object Coerce(object raw, Type type, string what)
    {
        // Python bools are ints and ints are valid floats; accept those widenings, refuse everything else.
        if (type == typeof(bool))
        {
            if (raw is bool b) return b;
            if (raw is long l && l is 0 or 1) return l == 1;
        }
        else if (type == typeof(long))
        {
            if (raw is long l) return l;
            if (raw is double d && d == Math.Floor(d) && Math.Abs(d) < 1e15) return (long)d;
        }
        else if (type == typeof(double))
        {
            if (raw is double d) return d;
            if (raw is long l) return (double)l;
        }
        string shown = raw switch
        {
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => PyRepr.Of(raw),
        };
        throw new InvalidInputException($"{what} is {shown}, expected {(type == typeof(bool) ? "a bool" : type == typeof(long) ? "an integer" : "a number")}");
    }
}
