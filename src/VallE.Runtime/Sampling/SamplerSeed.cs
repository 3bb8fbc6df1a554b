using System.Security.Cryptography;

namespace VallE.Runtime.Sampling;

/// <summary>The seed rule every sampler shares (CPU, CUDA, e-c-k-e-r): the seed asked for, or a random one.</summary>
internal static class SamplerSeed
{
    public static ulong Resolve(ulong? seed) => seed ?? BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
}
