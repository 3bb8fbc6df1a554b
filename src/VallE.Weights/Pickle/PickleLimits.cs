namespace VallE.Weights.Pickle;

/// <summary>
/// Bounds on what a pickle may build, so hostile input fails fast with bounded memory. The VM itself is
/// iterative and every allocation it makes is proportional to bytes actually present in the pickle; these
/// bound the shape of the result, which consumers walk recursively.
/// </summary>
public sealed record PickleLimits
{
    /// <summary>Deepest container nesting (a state dict inside a checkpoint dict is depth 2).</summary>
    public int MaxDepth { get; init; } = 100;

    /// <summary>Most values reachable counting shared ones once per reference ("billion laughs" guard).</summary>
    public long MaxExpandedValues { get; init; } = 50_000_000;

    /// <summary>Most decimal digits of a protocol-0 integer (CPython's own default limit is 4300).</summary>
    public int MaxDecimalDigits { get; init; } = 4300;

    public static PickleLimits Default { get; } = new();
}
