using VallE.Runtime.Cuda;
using VallE.Runtime.Sampling;

namespace VallE.Tests.Sampling;

/// <summary>
/// The sampler's generator: Random123's published known answers for philox4x32-10 (kat_vectors), and the managed
/// port against the kernels library's host function <c>valle_philox4x32_10</c> (the code the device runs).
/// </summary>
[TestFixture]
public class PhiloxTests
{
    // (key, counter, expected): Random123 lists the key as {k0, k1}; k0 is the low half of our 64-bit key.
    private static readonly (ulong Key, uint[] Counter, (uint, uint, uint, uint) Expected)[] KnownAnswers =
    [
        (0, [0, 0, 0, 0], (0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)),
        (ulong.MaxValue, [uint.MaxValue, uint.MaxValue, uint.MaxValue, uint.MaxValue], (0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)),
        (0x299f31d0_a4093822UL, [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], (0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)),
    ];

    [Test]
    public void ManagedPortMatchesRandom123KnownAnswers()
    {
        foreach (var (key, c, expected) in KnownAnswers)
            Assert.That(Philox4x32.Generate(key, c[0], c[1], c[2], c[3]), Is.EqualTo(expected), $"key {key:x16}");
    }

    [Test]
    public void NativeHostFunctionMatchesRandom123KnownAnswers()
    {
        RequireKernels();
        foreach (var (key, c, expected) in KnownAnswers)
            Assert.That(CudaKernels.Philox(key, c[0], c[1], c[2], c[3]), Is.EqualTo(expected), $"key {key:x16}");
    }

    [Test]
    public void ManagedPortMatchesTheNativeHostFunction()
    {
        RequireKernels();
        var rng = new Random(7);
        for (int i = 0; i < 2000; i++)
        {
            ulong key = (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63);
            uint c0 = (uint)rng.NextInt64(1L << 32), c1 = (uint)rng.NextInt64(1L << 32);
            uint c2 = (uint)rng.NextInt64(1L << 32), c3 = (uint)rng.NextInt64(1L << 32);
            Assert.That(Philox4x32.Generate(key, c0, c1, c2, c3), Is.EqualTo(CudaKernels.Philox(key, c0, c1, c2, c3)),
                $"key {key:x16} counter {c0:x8} {c1:x8} {c2:x8} {c3:x8}");
        }
    }

    [Test]
    public void UniformIsTheTop24BitsOfWordXWithTheSamplersCounterLayout()
    {
        const ulong seed = 0x0123_4567_89ab_cdefUL;
        foreach (ulong step in new ulong[] { 0, 1, 0xffff_ffffUL, 0x1_0000_0000UL, ulong.MaxValue })
            foreach (uint stream in new uint[] { 0, 5 })
            {
                uint x = Philox4x32.Generate(seed, (uint)step, (uint)(step >> 32), stream, 0).X;
                float u = TokenSampler.Uniform(seed, step, stream);
                Assert.That(u, Is.EqualTo((x >> 8) / 16777216.0).Within(0), $"step {step} stream {stream}");
                Assert.That(u, Is.GreaterThanOrEqualTo(0f).And.LessThan(1f));
            }
        // Pinned: seed 0, step 0, stream 0 is Random123's all-zero answer, 0x6627e8d5 >> 8 = 0x6627e8.
        Assert.That(TokenSampler.Uniform(0, 0, 0), Is.EqualTo(0x6627e8 / 16777216f));
    }

    private static void RequireKernels()
    {
        if (!CudaLibraries.TryLoadKernels(out string reason))
            Assert.Ignore($"the kernels library does not load ({reason}); build it with ./build.sh kernels or set {CudaLibraries.KernelsEnvVar}");
    }
}
