using VallE.Tests.Models;
using VallE.Tests.Support;
using VallE.Weights;

namespace VallE.Tests.Safetensors;

/// <summary>Damaged converted folders fail with <see cref="InvalidInputException"/> only: never another exception type.</summary>
public class SafetensorsFuzzTests
{
    [Test]
    public void RandomHeaderAndConfigCorruptionOnlyEverThrowsInvalidInput()
    {
        using var tmp = TestPaths.CreateTempDir();
        string folder = InMemoryModels.WriteFolder(InMemoryModels.Tiny() with { NumQuantizers = 3 }, tmp.File("a"));
        string weights = Path.Combine(folder, "model.safetensors"), config = Path.Combine(folder, "config.json");
        byte[] goodWeights = File.ReadAllBytes(weights), goodConfig = File.ReadAllBytes(config);
        int headerEnd = 8 + BitConverter.ToInt32(goodWeights, 0);
        var rng = new Random(11);
        int failures = 0;
        for (int round = 0; round < 300; round++)
        {
            byte[] w = (byte[])goodWeights.Clone(), c = (byte[])goodConfig.Clone();
            // Mostly header bytes (digits, quotes, brackets matter most), sometimes config.json.
            bool inConfig = round % 4 == 3;
            byte[] target = inConfig ? c : w;
            int limit = inConfig ? c.Length : headerEnd;
            for (int k = 0, n = rng.Next(1, 4); k < n; k++)
                target[rng.Next(inConfig ? 0 : 0, limit)] = (byte)"0123456789\"[]{},:-. xF"[rng.Next(22)];
            File.WriteAllBytes(weights, w);
            File.WriteAllBytes(config, c);
            try
            {
                using var ckpt = ModelCheckpoint.Open(folder);
            }
            catch (InvalidInputException)
            {
                failures++;
            }
            catch (ArgumentException)
            {
                Assert.Fail($"round {round}: a damaged file must not read as a usage error");
            }
        }
        Assert.That(failures, Is.GreaterThan(100), "most corruptions are detected");
    }
}
