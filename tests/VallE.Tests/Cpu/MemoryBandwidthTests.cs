using VallE.Runtime.Cpu;

namespace VallE.Tests.Cpu;

/// <summary>The probe's plumbing only (a small buffer, one pass): the number itself is for benchmarks.</summary>
public class MemoryBandwidthTests
{
    [Test]
    public void MeasuresAPositiveFiniteRate()
    {
        using var backend = new CpuBackend(2);
        double gbps = MemoryBandwidth.MeasureGBps(backend, bytes: 8L << 20, runs: 1);
        Assert.That(gbps, Is.GreaterThan(0).And.LessThan(1e5));
    }

    [Test]
    public void RejectsTinyBuffersAndZeroRuns()
    {
        using var backend = new CpuBackend(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryBandwidth.MeasureGBps(backend, bytes: 1024));
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryBandwidth.MeasureGBps(backend, runs: 0));
    }
}
