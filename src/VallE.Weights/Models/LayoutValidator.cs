namespace VallE.Weights;

/// <summary>
/// Checks a checkpoint's tensors against the layout its resolved config implies and reports every problem at
/// once: missing, unexpected and mis-shaped (or wrongly typed) tensors, the first few of each with counts, in one
/// <see cref="InvalidInputException"/>. Seeing them together tells a wrong hyper-parameter (all layers
/// mis-shaped) from a damaged file (one tensor missing).
/// </summary>
public static class LayoutValidator
{
    private const int Shown = 3;

    public static void Validate(ModelConfig config, IReadOnlyDictionary<string, TensorData> tensors)
    {
        var expected = ModelLayout.Expected(config);
        var expectedNames = new HashSet<string>(expected.Select(e => e.Name), StringComparer.Ordinal);
        var missing = new List<string>();
        var misShaped = new List<string>();
        foreach (var e in expected)
        {
            if (!tensors.TryGetValue(e.Name, out var t))
            {
                missing.Add($"'{e.Name}' {e.ShapeText}");
                continue;
            }
            if (!t.Shape.AsSpan().SequenceEqual(e.Shape))
                misShaped.Add($"'{e.Name}' is [{string.Join(", ", t.Shape)}], expected {e.ShapeText}");
            else if (e.IsInteger ? t.DType.IsFloatingPoint() : !t.DType.IsFloatingPoint())
                misShaped.Add($"'{e.Name}' is {t.DType.ShortName()}, expected {(e.IsInteger ? "an integer" : "a floating")} dtype");
        }
        var unexpected = tensors.Keys.Where(k => !expectedNames.Contains(k)).Select(k => $"'{k}'").ToList();
        if (missing.Count + misShaped.Count + unexpected.Count == 0) return;

        var parts = new List<string>();
        if (missing.Count > 0) parts.Add(Describe("missing", missing));
        if (misShaped.Count > 0) parts.Add(Describe("mis-shaped", misShaped));
        if (unexpected.Count > 0) parts.Add(Describe("unexpected", unexpected));
        throw new InvalidInputException(
            $"checkpoint does not match the {ConfigResolver.FamilyName(config.Family)} layout (d_model {config.DModel}, {config.NumLayers} layers, " +
            $"NAR {config.NarDModel}x{config.NarNumLayers}, {config.NumQuantizers} quantizers, norm_first {Lower(config.NormFirst)}, " +
            $"add_prenet {Lower(config.AddPrenet)}, prepend_bos {Lower(config.PrependBos)}): {string.Join("; ", parts)}");
    }

    private static string Lower(bool b) => b ? "true" : "false";

    private static string Describe(string kind, List<string> items) =>
        $"{items.Count} {kind} ({string.Join(", ", items.Take(Shown))}{(items.Count > Shown ? $", and {items.Count - Shown} more" : "")})";
}
