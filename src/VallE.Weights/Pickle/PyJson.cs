using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;

namespace VallE.Weights.Pickle;

/// <summary>
/// Writes unpickled plain data (dicts, lists, strings, numbers, None) as JSON text, the way Python's
/// <c>json.dumps</c> would for the same values. e-c-k-e-r/vall-e stores its model config as a pickled dict in a
/// <c>.pt</c> and as that dict's JSON in a <c>.sft</c>'s metadata; converting the first into the second lets both
/// forms go through one parser and lets <c>convert</c> write upstream's <c>.sft</c> metadata.
/// Only call this on a graph <see cref="PyGraph.Check"/> accepted (no cycles, bounded size): it recurses.
/// </summary>
public static class PyJson
{
    /// <summary>Largest JSON text produced; a model config is a few kilobytes, a phoneme symmap tens of kilobytes.</summary>
    public const int MaxChars = 16 << 20;

    /// <summary>
    /// The JSON text of <paramref name="value"/>. Values JSON has no form for are written as Python's json module
    /// cannot, but as a reader of the result would want them: <c>pathlib</c> paths as their string (upstream's config
    /// holds one when a model was loaded with <c>--model</c>), NaN/±inf, other objects and tensors as null, non-string
    /// dict keys as their repr. Throws <see cref="InvalidInputException"/> when the text would exceed <see cref="MaxChars"/>.
    /// </summary>
    public static string Serialize(object? value, string where)
    {
        var buffer = new MemoryStream();
        try
        {
            using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = false, MaxDepth = 1000 }))
                Write(json, value, buffer, where);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // A string that is not valid UTF-16 or nesting the writer refuses: the file's data, not our bug.
            throw new InvalidInputException($"{where}: cannot be written as JSON: {e.Message}", e);
        }
        if (buffer.Length > MaxChars) throw new InvalidInputException($"{where}: more than {MaxChars} bytes as JSON (not a model config)");
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void Write(Utf8JsonWriter json, object? value, MemoryStream buffer, string where)
    {
        if (json.BytesPending + buffer.Length > MaxChars)
            throw new InvalidInputException($"{where}: more than {MaxChars} bytes as JSON (not a model config)");
        switch (value)
        {
            case null: json.WriteNullValue(); break;
            case bool b: json.WriteBooleanValue(b); break;
            case long l: json.WriteNumberValue(l); break;
            case BigInteger big: json.WriteRawValue(big.ToString(CultureInfo.InvariantCulture)); break;
            case double d when double.IsFinite(d): json.WriteNumberValue(d); break;
            case double: json.WriteNullValue(); break;
            case string s: json.WriteStringValue(s); break;
            case PyDict dict:
                json.WriteStartObject();
                foreach (var (k, v) in dict.Entries)
                {
                    json.WritePropertyName(k as string ?? PyRepr.Of(k));
                    Write(json, v, buffer, where);
                }
                json.WriteEndObject();
                break;
            case PyList list:
                json.WriteStartArray();
                foreach (var item in list) Write(json, item, buffer, where);
                json.WriteEndArray();
                break;
            case PyTuple tuple:
                json.WriteStartArray();
                foreach (var item in tuple.Items) Write(json, item, buffer, where);
                json.WriteEndArray();
                break;
            case PyInert { Module: "pathlib", Name: "PosixPath" or "WindowsPath" or "Path" or "PurePosixPath" or "PureWindowsPath", Args: PyTuple parts }
                when parts.Items.All(p => p is string):
                // pathlib pickles a path as its parts: PosixPath('a', 'b') is a/b.
                json.WriteStringValue(string.Join("/", parts.Items.Cast<string>()).Replace("//", "/", StringComparison.Ordinal));
                break;
            default: json.WriteNullValue(); break;
        }
        if (json.BytesPending > 1 << 16) json.Flush();
    }
}
