using System.Text.Json;
using VallE.Tests.Support;

namespace VallE.Tests.Sampling;

/// <summary>
/// The PyTorch reference used by `valle bench` is only worth timing if it computes what upstream computes: both its
/// variants (upstream's recompute-everything loop and the KV-cached one) must reproduce the golden fixtures exactly.
/// </summary>
[TestFixture]
public class TorchReferenceTests
{
    [TestCase("valle-tiny")]
    [TestCase("vallex-tiny")]
    public void BothVariantsReproduceTheFixture(string fixture)
    {
        string folder = Path.GetDirectoryName(TestPaths.RequireShared("valle", fixture, "checkpoint.pt"))!;
        TorchReference.RequireTorch();
        JsonElement report = TorchReference.RunJson("check", folder);
        TestContext.Out.WriteLine(report.ToString());
        Assert.That(report.GetProperty("variants_agree").GetBoolean(), "cached and upstream variants disagree");
        foreach (string variant in new[] { "upstream", "cached" })
        {
            JsonElement r = report.GetProperty(variant);
            Assert.That(r.GetProperty("codes_equal").GetBoolean(), $"{variant}: {r}");
            Assert.That(r.GetProperty("ar_logits_max_rel_err").GetDouble(), Is.LessThan(1e-5), variant);
        }
    }
}
