namespace VallE.Runtime.Sampling;

/// <summary>
/// Philox4x32-10 (Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC'11), bit for bit
/// the generator of <c>native/kernels/philox.cuh</c>. Counter-based: the output is a pure function of (key, counter),
/// so the CPU and the device name the same random numbers by the same (seed, step, stream) without carrying any
/// state, and how many threads run the engine cannot change a draw.
/// </summary>
/// <remarks>
/// Key word 0 is the low 32 bits of <c>key</c>, word 1 the high 32 bits (Random123's <c>{k0, k1}</c>). Each of the
/// ten rounds multiplies counter words 0 and 2 by the constants below (64-bit products split hi/lo) and mixes in the
/// key; the key is bumped by the Weyl constants before every round but the first. Pinned by Random123's known-answer
/// vectors in the tests, and compared with the kernels library's host function where it loads.
/// </remarks>
public static class Philox4x32
{
    private const uint M0 = 0xD2511F53u, M1 = 0xCD9E8D57u; // round multipliers
    private const uint W0 = 0x9E3779B9u, W1 = 0xBB67AE85u; // key schedule (golden ratio, sqrt(3) - 1)

    /// <summary>The four output words for counter (c0, c1, c2, c3) under <paramref name="key"/>.</summary>
    public static (uint X, uint Y, uint Z, uint W) Generate(ulong key, uint c0, uint c1, uint c2, uint c3)
    {
        uint k0 = (uint)key, k1 = (uint)(key >> 32);
        for (int round = 0; round < 10; round++)
        {
            if (round > 0)
            {
                k0 += W0;
                k1 += W1;
            }
            ulong p0 = (ulong)M0 * c0, p1 = (ulong)M1 * c2;
            uint n0 = (uint)(p1 >> 32) ^ c1 ^ k0;
            uint n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
            c0 = n0;
            c1 = (uint)p1;
            c2 = n2;
            c3 = (uint)p0;
        }
        return (c0, c1, c2, c3);
    }
}
