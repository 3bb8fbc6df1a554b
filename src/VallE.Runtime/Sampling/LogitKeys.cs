namespace VallE.Runtime.Sampling;

/// <summary>
/// What both samplers (<see cref="TokenSampler"/>, <see cref="EckerSampler"/>) share: a logit and its index packed into
/// one <c>ulong</c> whose ascending order is descending logit, then ascending index (so a plain sort or quickselect
/// gives torch's "largest first, lower index on ties" order without a comparer), and the errors for rows that cannot be
/// sampled.
/// </summary>
internal static class LogitKeys
{
    /// <summary>Sort key: ascending key order = descending logit, then ascending index.</summary>
    public static ulong KeyOf(float logit, int index)
    {
        if (logit == 0f) logit = 0f; // -0 and +0 are the same logit
        uint bits = BitConverter.SingleToUInt32Bits(logit);
        uint ascending = (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
        return ((ulong)~ascending << 32) | (uint)index;
    }

    /// <summary>The index a <see cref="KeyOf"/> key was made with.</summary>
    public static int IndexOf(ulong key) => (int)(uint)key;

    public static InvalidInputException NonFinite(string what) =>
        new($"the model produced {what} logits (corrupt or non-finite weights, or an overflow)");

    public static InvalidInputException AllMasked() => new("every logit is -inf: no token can be sampled");
}
