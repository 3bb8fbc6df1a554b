using VallE.Runtime.Cuda;

namespace VallE.Tests.Cuda;

/// <summary>
/// The parts of the CUDA backend that must behave on every machine, GPU or not: the probe, --device resolution
/// and the memory plan. These never skip.
/// </summary>
[TestFixture]
public class CudaProbeTests
{
    [Test]
    public void Probe_ReturnsADeviceOrACleanReason()
    {
        using var device = CudaDevice.TryCreate(out string reason);
        if (device is null)
        {
            Assert.That(reason, Is.Not.Empty);
            Assert.That(reason, Does.Not.Contain("\n"), "the reason is one line for the CLI");
            TestContext.Out.WriteLine($"probe: {reason}");
        }
        else
        {
            Assert.That(reason, Is.Empty);
            Assert.That(device.ComputeCapability, Is.GreaterThanOrEqualTo(CudaDevice.MinComputeCapability));
            TestContext.Out.WriteLine(device.Description);
        }
    }

    [Test]
    public void Probe_IsStableAcrossCalls()
    {
        using var first = CudaDevice.TryCreate(out string reason1);
        using var second = CudaDevice.TryCreate(out string reason2);
        Assert.That(second is null, Is.EqualTo(first is null));
        Assert.That(reason2, Is.EqualTo(reason1));
    }

    [TestCase("auto", DeviceKind.Auto)]
    [TestCase("CPU", DeviceKind.Cpu)]
    [TestCase("cuda", DeviceKind.Cuda)]
    [TestCase(" gpu ", DeviceKind.Cuda)]
    public void Parse_AcceptsTheDocumentedValues(string value, DeviceKind expected) =>
        Assert.That(DeviceSelection.Parse(value), Is.EqualTo(expected));

    [Test]
    public void Parse_RejectsOthersAsArgumentError()
    {
        var e = Assert.Throws<ArgumentException>(() => DeviceSelection.Parse("tpu"))!;
        Assert.That(e.ParamName, Is.EqualTo("value"));
        Assert.That(e.Message, Does.Contain("tpu"));
    }

    [Test]
    public void Resolve_CpuNeverProbes()
    {
        var lines = new List<string>();
        Assert.That(DeviceSelection.Resolve(DeviceKind.Cpu, lines.Add), Is.Null);
        Assert.That(lines, Is.Empty);
    }

    [Test]
    public void Resolve_AutoFallsBackWithOneLogLine_CudaFailsAsNativeDependency()
    {
        using var probe = CudaDevice.TryCreate(out string reason);
        var lines = new List<string>();
        using var auto = DeviceSelection.Resolve(DeviceKind.Auto, lines.Add);
        if (probe is not null)
        {
            Assert.That(auto, Is.Not.Null);
            Assert.That(lines, Is.Empty);
            return;
        }
        Assert.That(auto, Is.Null);
        Assert.That(lines, Has.Count.EqualTo(1));
        Assert.That(lines[0], Does.Contain(reason).And.Contain("CPU"));

        var e = Assert.Throws<NativeDependencyException>(() => DeviceSelection.Resolve(DeviceKind.Cuda, _ => { }))!;
        Assert.That(e.Message, Does.Contain(reason).And.Not.Contain("--device"));
    }

    [Test]
    public void MemoryPlan_KvCacheBytes()
    {
        // 12 layers, batch 1, 3000 positions, d_model 1024: 2 x 12 x 3000 x 1024 elements.
        Assert.That(CudaMemoryPlan.KvCache(12, 1, 3000, 1024, CudaDType.F32), Is.EqualTo(2L * 12 * 3000 * 1024 * 4));
        Assert.That(CudaMemoryPlan.KvCache(12, 4, 3000, 1024, CudaDType.BF16), Is.EqualTo(2L * 12 * 4 * 3000 * 1024 * 2));
    }

    [Test]
    public void MemoryPlan_FailsClearlyWhenItCannotFit()
    {
        var plan = new CudaMemoryPlan(WeightBytes: 1L << 30, KvCacheBytes: 3L << 30, ActivationBytes: 1L << 20);
        Assert.DoesNotThrow(() => plan.EnsureFits(8L << 30, "generation"));
        var e = Assert.Throws<InvalidInputException>(() => plan.EnsureFits(2L << 30, "generation of up to 3000 frames"))!;
        Assert.That(e.Message, Does.Contain("generation of up to 3000 frames").And.Contain("KV cache 3.00").And.Contain("2.00 GiB is free"));
    }

    [Test]
    public void MemoryPlan_ActivationsCoverDecodePartials()
    {
        long small = CudaMemoryPlan.Activations(rows: 1, batch: 1, dim: 1024, feedForward: 4096, vocab: 1025, heads: 16, kvCapacity: 256);
        long large = CudaMemoryPlan.Activations(rows: 1, batch: 1, dim: 1024, feedForward: 4096, vocab: 1025, heads: 16, kvCapacity: 4096);
        Assert.That(large - small, Is.EqualTo(4L * 16 * (16 - 1) * (64 + 2)));
    }
}
