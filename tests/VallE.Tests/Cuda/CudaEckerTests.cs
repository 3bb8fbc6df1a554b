using VallE.Runtime.Cuda;
using VallE.Tests.Ecker;
using VallE.Weights.NumPy;
using static VallE.Tests.Cuda.CudaTestSupport;

namespace VallE.Tests.Cuda;

/// <summary>
/// The e-c-k-e-r/vall-e model on the CUDA backend (valle_rms_norm, valle_rope, valle_gated_gelu, cuBLAS, the attention
/// kernels) against upstream's greedy codes on the <c>arnar_d64</c> fixture, and its AR logits against the CPU
/// backend's. GPU only: skipped with the probe's reason elsewhere.
/// </summary>
public sealed class CudaEckerTests
{
    [Test]
    public void ArNarD64GreedyCodesMatchUpstream()
    {
        using var backend = new CudaComputeBackend(RequireDevice(), ownsDevice: false);
        var (_, codes, recorder) = EckerArNarTests.Run(backend);
        var expected = Npy.Read(EckerArNarTests.Fixture("expected_codes.npy"));
        Assert.That((codes.Frames, codes.Codebooks), Is.EqualTo(((int)expected.Shape[0], (int)expected.Shape[1])));
        Assert.That(codes.Span.ToArray(), Is.EqualTo(expected.ToInt64()));

        var ar = Npy.Read(EckerArNarTests.Fixture("ar_logits.npy"));
        int steps = (int)ar.Shape[0], vocab = (int)ar.Shape[1];
        var all = ar.ToFloat32();
        double worst = 0, scale = 0;
        for (int s = 0; s < steps; s++)
        {
            var want = all.AsSpan(s * vocab, vocab);
            worst = Math.Max(worst, EckerArNarTests.MaxAbs(recorder.Logits[(VallE.Runtime.Models.Ecker.EckerPass.Ar, s)], want));
            scale = Math.Max(scale, EckerArNarTests.MaxAbs(want));
        }
        TestContext.Out.WriteLine($"arnar_d64 on CUDA: AR logits max abs error {worst:E2} (max |logit| {scale:F2}) over {steps} steps");
        Assert.That(worst, Is.LessThan(1e-4 * Math.Max(1, scale)));
    }
}
